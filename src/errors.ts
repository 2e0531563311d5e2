/**
 * An error caused by what the user gave us (a file, a flag, a field), not by a bug. Its message
 * names the file and line or field at fault; the CLI prints it without a stack trace.
 */
export class InputError extends Error {
  override readonly name = "InputError";
}
