/**
 * A request the server refuses, with the HTTP status to answer and a message for the page.
 * `closeConnection` is set when the request body was left unread (an upload far over the limit),
 * so the connection cannot be reused.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";

  constructor(
    readonly status: number,
    message: string,
    readonly closeConnection = false,
  ) {
    super(message);
  }
}
