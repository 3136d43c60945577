// A stand-in for the `vscode` module, enough to load and drive the extension's commands under
// Node's test runner: what the commands showed and which workspace APIs they reached are
// recorded. Installed before the first module that imports `vscode` is required.
import Module from 'node:module';

export interface VscodeStub {
  workspace: {
    isTrusted: boolean;
    workspaceFolders: { uri: { fsPath: string } }[] | undefined;
    textDocuments: unknown[];
    getConfiguration(section: string): { get(name: string): unknown };
  };
  /** Every message shown, with the buttons it offered: "message | button". */
  shown: string[];
  /** Workspace or window APIs a command reached after its refusal should have ended it. */
  reached: string[];
}

class EventEmitter<T> {
  private readonly listeners = new Set<(value: T) => void>();
  readonly event = (listener: (value: T) => void) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of this.listeners) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export function installVscodeStub(): VscodeStub {
  const stub: VscodeStub = {
    shown: [],
    reached: [],
    workspace: {
      isTrusted: false,
      workspaceFolders: undefined,
      textDocuments: [],
      getConfiguration: () => {
        stub.reached.push('getConfiguration');
        return { get: () => undefined };
      },
    },
  };
  const show = async (message: string, ...items: string[]) => {
    stub.shown.push([message, ...items].join(' | '));
    return undefined;
  };
  const module = {
    workspace: new Proxy(stub.workspace, {
      get: (target, name: string) => {
        if (name === 'workspaceFolders' || name === 'textDocuments') stub.reached.push(name);
        return (target as unknown as Record<string, unknown>)[name];
      },
    }),
    window: {
      showErrorMessage: show,
      showInformationMessage: show,
      showWarningMessage: show,
      showOpenDialog: async () => void stub.reached.push('showOpenDialog'),
      showQuickPick: async () => void stub.reached.push('showQuickPick'),
      withProgress: async () => void stub.reached.push('withProgress'),
    },
    commands: { executeCommand: async (id: string) => void stub.reached.push(`executeCommand ${id}`) },
    EventEmitter,
    Uri: class Uri {},
    ProgressLocation: { Notification: 15 },
  };
  const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? module : load.call(this, request, ...rest);
  };
  return stub;
}
