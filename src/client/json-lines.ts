import type { Readable } from 'node:stream';
import { ProgressStreamError } from './daemon-error.js';

/** One line of a Docker progress stream (pull, import, push). */
export interface ProgressMessage {
  id?: string;
  status?: string;
  /** Text to print as it is (a load's "Loaded image: …\n" lines). */
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** The non-blank lines of a body, without their "\n" or "\r\n", however the chunks split them. */
export async function* readLines(body: Readable): AsyncGenerator<string> {
  let pending = '';
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') yield line.trim();
  }
  if (pending.trim() !== '') yield pending.trim();
}

/** Parses a newline-delimited JSON body. */
export async function* readJsonLines<T>(body: Readable): AsyncGenerator<T> {
  for await (const line of readLines(body)) yield JSON.parse(line) as T;
}

/** Progress messages of a pull or import; a message carrying `error` ends the stream with that error. */
export async function* readProgress(body: Readable): AsyncGenerator<ProgressMessage> {
  for await (const message of readJsonLines<ProgressMessage>(body)) {
    if (message.error !== undefined || message.errorDetail?.message !== undefined) {
      throw new ProgressStreamError(message.errorDetail?.message ?? message.error ?? 'unknown error');
    }
    yield message;
  }
}
