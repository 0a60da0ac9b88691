/** The local terminal, for `-t`: its size, raw mode, and resize notifications. */

/** [rows, columns], or undefined when the stream is not a terminal. */
export function terminalSize(stream: NodeJS.WriteStream): [number, number] | undefined {
  return stream.isTTY ? [stream.rows, stream.columns] : undefined;
}

/** The terminal's width in columns, or undefined when the stream is not a terminal. */
export function terminalWidth(stream: NodeJS.WriteStream): number | undefined {
  return stream.isTTY && stream.columns > 0 ? stream.columns : undefined;
}

/** Puts stdin in raw mode so keys (Ctrl-C included) go to the container; returns the undo. */
export function enterRawMode(stdin: NodeJS.ReadStream): () => void {
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  return () => stdin.setRawMode(false);
}

/** Calls `onResize` on every SIGWINCH (node turns it into a 'resize' event); returns the unsubscribe. */
export function watchResize(stdout: NodeJS.WriteStream, onResize: () => void): () => void {
  if (!stdout.isTTY) return () => undefined;
  stdout.on('resize', onResize);
  return () => stdout.off('resize', onResize);
}
