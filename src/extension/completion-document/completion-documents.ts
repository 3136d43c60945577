// Completions as read-only documents of the `grpo-completion` scheme: their text, a hover per
// token and token colours. Each document is read from the run folder, kept while it is open.
import * as vscode from 'vscode';
import type { CompletionRef } from '../dashboard/dashboard-channel';
import { tokenAt, type CompletionDocument } from './completion-text';
import { COMPLETION_SCHEME, completionUriParts, parseCompletionQuery } from './completion-uri';
import { readCompletionDocument } from './read-completion';
import { RunDecoders } from '../../run-folder/run-decoders';
import type { TokenColouring } from './token-colours';
import { TokenDecorations } from './token-decorations';
import { tokenHover, type TokenHover } from './token-hover';

/** Call once in `activate`; `log` is the output channel's appendLine. */
export function registerCompletionDocuments(context: vscode.ExtensionContext, log: (line: string) => void): CompletionDocuments {
  const documents = new CompletionDocuments(new RunDecoders(log));
  context.subscriptions.push(documents);
  return documents;
}

export class CompletionDocuments implements vscode.TextDocumentContentProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly loaded = new Map<string, CompletionDocument>(); // by uri.toString()
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly decorations = new TokenDecorations();
  private readonly disposables: vscode.Disposable[];
  private colouring: TokenColouring = 'logprob';

  readonly onDidChange = this.changed.event;

  constructor(private readonly decoders: RunDecoders) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(COMPLETION_SCHEME, this),
      vscode.languages.registerHoverProvider({ scheme: COMPLETION_SCHEME }, this),
      vscode.window.onDidChangeVisibleTextEditors((editors) => this.decorate(editors)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === COMPLETION_SCHEME) this.decorate(vscode.window.visibleTextEditors.filter((v) => v.document === e.document));
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.loaded.delete(d.uri.toString())),
      this.changed,
      this.decorations,
    ];
  }

  /**
   * Reads the completion from its run folder; its document opens from the returned URI. A
   * document already open is refreshed when the folder changed (a resume rewrites iterations).
   */
  async load(ref: CompletionRef): Promise<{ uri: vscode.Uri; document: CompletionDocument }> {
    const doc = await readCompletionDocument(ref, await this.decoders.forRun(ref.runDir));
    const uri = vscode.Uri.from({ scheme: COMPLETION_SCHEME, ...completionUriParts(ref, doc.advantage) });
    const before = this.loaded.get(uri.toString());
    this.loaded.set(uri.toString(), doc);
    if (before && before.text !== doc.text) this.changed.fire(uri);
    return { uri, document: doc };
  }

  /** Colours the tokens of any completion documents among `editors`. */
  decorate(editors: readonly vscode.TextEditor[]): void {
    for (const editor of editors) {
      const doc = editor.document.uri.scheme === COMPLETION_SCHEME ? this.loaded.get(editor.document.uri.toString()) : undefined;
      if (doc) this.decorations.apply(editor, doc, this.colouring);
    }
  }

  /** Log-prob to KL and back, in every completion editor. */
  switchColouring(): void {
    this.colouring = this.colouring === 'logprob' ? 'kl' : 'logprob';
    this.decorate(vscode.window.visibleTextEditors);
    const active = vscode.window.activeTextEditor?.document.uri;
    const noReference = this.colouring === 'kl' && active && this.loaded.get(active.toString())?.hasReference === false;
    const by = this.colouring === 'kl' ? 'KL to the reference (k3): the further, the stronger' : 'log-prob: the less likely, the stronger';
    void vscode.window.showInformationMessage(`GRPO: completion tokens coloured by ${by}.${noReference ? ' This run kept no reference log-probs (kl_coef 0), so it shows none.' : ''}`);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    return (await this.documentFor(uri)).text;
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (document.uri.scheme !== COMPLETION_SCHEME) return undefined;
    const doc = await this.documentFor(document.uri);
    const index = tokenAt(doc, document.offsetAt(position));
    if (index === undefined) return undefined;
    const t = doc.tokens[index];
    return new vscode.Hover(hoverMarkdown(tokenHover(doc, index)), new vscode.Range(document.positionAt(t.start), document.positionAt(t.end)));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** Loaded by `load`, or read again from the URI's query (a tab restored after a reload). */
  private async documentFor(uri: vscode.Uri): Promise<CompletionDocument> {
    const key = uri.toString();
    const open = this.loaded.get(key);
    if (open) return open;
    const ref = parseCompletionQuery(uri.query);
    const doc = await readCompletionDocument(ref, await this.decoders.forRun(ref.runDir));
    this.loaded.set(key, doc);
    return doc;
  }
}

/** The token's text is model output: appended as text (escaped), never as markdown or HTML. */
function hoverMarkdown(hover: TokenHover): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.isTrusted = false;
  md.supportHtml = false;
  md.supportThemeIcons = false;
  md.appendText(hover.quoted);
  md.appendMarkdown('\n\n');
  for (const row of hover.rows) {
    md.appendMarkdown(`**${row.label}** `);
    md.appendText(row.value);
    md.appendMarkdown('  \n');
  }
  return md;
}
