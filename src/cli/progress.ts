import type { ProgressMessage } from '../client/index.js';

/**
 * Prints a pull (later push, load, build) progress stream as the docker CLI does. On a terminal each
 * layer keeps one line that is redrawn in place as its progress changes; otherwise one
 * "<id>: <status>" line per message, leaving out the byte-count updates.
 * Returns the last status, which for an import is the new image's ID.
 */
export async function printProgress(
  messages: AsyncIterable<ProgressMessage>,
  out: NodeJS.WritableStream,
): Promise<string | undefined> {
  const terminal = (out as Partial<NodeJS.WriteStream>).isTTY === true ? new TerminalProgress(out) : undefined;
  let lastStatus: string | undefined;
  for await (const message of messages) {
    if (message.status === undefined) continue;
    lastStatus = message.status;
    if (terminal) {
      terminal.show(message);
      continue;
    }
    if (message.progressDetail?.current !== undefined || message.progress) continue;
    out.write(message.id ? `${message.id}: ${message.status}\n` : `${message.status}\n`);
  }
  return lastStatus;
}

const ESC = '\x1b[';

/**
 * docker's terminal layout (jsonmessage.DisplayJSONMessagesStream): a message about a layer, with
 * progress, goes on that layer's line — a new line the first time, otherwise the cursor moves up
 * to it, clears it, writes, and moves back down. Any other message ends the set of redrawn lines.
 */
class TerminalProgress {
  /** The line of each layer, counted from the first line of the current set. */
  private lines = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  show(message: ProgressMessage): void {
    const hasProgress = message.progressDetail !== undefined || message.progress !== undefined;
    if (!message.id || !hasProgress) {
      this.lines.clear();
      this.out.write(`${message.id ? `${message.id}: ` : ''}${message.status}\n`);
      return;
    }
    let line = this.lines.get(message.id);
    if (line === undefined) {
      line = this.lines.size;
      this.lines.set(message.id, line);
      this.out.write('\n');
    }
    const up = this.lines.size - line;
    const progress = message.progress ? ` ${message.progress}` : '';
    this.out.write(`${ESC}${up}A${ESC}2K\r${message.id}: ${message.status}${progress}\r${ESC}${up}B`);
  }
}

/** Drains an import's progress silently and prints only its last status: the new image's ID. */
export async function printImportedImageId(messages: AsyncIterable<ProgressMessage>, out: NodeJS.WritableStream) {
  let lastStatus: string | undefined;
  for await (const message of messages) lastStatus = message.status ?? lastStatus;
  if (lastStatus !== undefined) out.write(`${lastStatus}\n`);
}
