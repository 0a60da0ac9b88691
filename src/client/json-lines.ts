import type { Readable } from 'node:stream';
import { ProgressStreamError } from './daemon-error.js';

/** One line of a Docker progress stream (pull, import, push). */
export interface ProgressMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** Parses a newline-delimited JSON body, lines ending in "\n" or "\r\n", split across chunks anywhere. */
export async function* readJsonLines<T>(body: Readable): AsyncGenerator<T> {
  let pending = '';
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as T;
  }
  if (pending.trim() !== '') yield JSON.parse(pending) as T;
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
