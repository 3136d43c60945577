// One decoration type per highlight level, coloured by the theme colours package.json
// contributes (grpoStudio.tokenLevel1..4: translucent, darker per level, per theme kind).
import * as vscode from 'vscode';
import type { CompletionDocument } from './completion-text';
import { LEVELS, tokenLevels, type TokenColouring } from './token-colours';

export class TokenDecorations implements vscode.Disposable {
  private readonly types = Array.from({ length: LEVELS }, (_, i) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`grpoStudio.tokenLevel${i + 1}`),
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    }),
  );

  /** Replaces the editor's token colours; every level is set, so a level now empty is cleared. */
  apply(editor: vscode.TextEditor, doc: CompletionDocument, colouring: TokenColouring): void {
    const levels = tokenLevels(doc, colouring);
    const at = (offset: number) => editor.document.positionAt(offset);
    this.types.forEach((type, i) => editor.setDecorations(type, levels[i].map(([start, end]) => new vscode.Range(at(start), at(end)))));
  }

  dispose(): void {
    for (const t of this.types) t.dispose();
  }
}
