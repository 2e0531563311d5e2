/**
 * An error caused by what the user gave us (a file, a flag, a field), not by a bug. Its message
 * names the file and line or field at fault; the CLI prints it without a stack trace.
 */
export class InputError extends Error {
  override readonly name: string = "InputError";
}

/**
 * A file we wrote earlier (a feature shard, a checkpoint, an index) that no longer reads back as
 * written: truncated, edited, or missing a part. Still the user's input to a command (exit 2), but
 * a server that finds its own index corrupt answers 5xx, not 4xx.
 */
export class CorruptFileError extends InputError {}
