/**
 * Holds messages for a webview until it says it is ready, then delivers them in order.
 * A webview drops what is posted to it while its page loads, and it reloads whenever the
 * panel is restored, so the host calls `reset` when the webview is recreated and `open`
 * when its `ready` arrives (see the handshake in ./dashboard-messages).
 */
export class MessageQueue<T> {
  private pending: T[] = [];
  private ready = false;

  constructor(private readonly deliver: (message: T) => void) {}

  get isOpen(): boolean {
    return this.ready;
  }

  /** Delivers now when the webview is ready, else keeps the message for `open`. */
  post(message: T): void {
    if (this.ready) this.deliver(message);
    else this.pending.push(message);
  }

  /** The webview is ready: deliver `first` (e.g. a snapshot), then everything held, in order. */
  open(...first: T[]): void {
    const held = this.pending;
    this.pending = [];
    this.ready = true;
    for (const m of [...first, ...held]) this.deliver(m);
  }

  /** The webview is being rebuilt: hold messages again until its next `ready`. */
  reset(): void {
    this.ready = false;
  }
}
