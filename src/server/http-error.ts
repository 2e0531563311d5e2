/**
 * A request the server refuses, with the HTTP status to answer and a message for the page.
 * `closeConnection` is set when the request body was left unread (an upload far over the limit),
 * so the connection cannot be reused; `headers` go with the answer (Retry-After on a 503).
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly closeConnection: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    message: string,
    options: { closeConnection?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.closeConnection = options.closeConnection ?? false;
    this.headers = options.headers ?? {};
  }
}
