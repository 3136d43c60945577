// A request the reward server refuses: the client's mistake (status 4xx) or a server that is
// going away (503). The message goes back as {"error": message}, so it names the field and the fix.

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
