import type { ProgressMessage } from '../client/index.js';

/**
 * Prints a pull or import progress stream as the docker CLI does when the output is not a
 * terminal: one "<id>: <status>" line per message, leaving out the byte-count updates.
 * Returns the last status, which for an import is the new image's ID.
 */
export async function printProgress(
  messages: AsyncIterable<ProgressMessage>,
  out: NodeJS.WritableStream,
): Promise<string | undefined> {
  let lastStatus: string | undefined;
  for await (const message of messages) {
    if (message.status === undefined) continue;
    lastStatus = message.status;
    if (message.progressDetail?.current !== undefined || message.progress) continue;
    out.write(message.id ? `${message.id}: ${message.status}\n` : `${message.status}\n`);
  }
  return lastStatus;
}

/** Drains an import's progress silently and prints only its last status: the new image's ID. */
export async function printImportedImageId(messages: AsyncIterable<ProgressMessage>, out: NodeJS.WritableStream) {
  let lastStatus: string | undefined;
  for await (const message of messages) lastStatus = message.status ?? lastStatus;
  if (lastStatus !== undefined) out.write(`${lastStatus}\n`);
}
