import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ProgressMessage } from '../../src/client/index.js';
import { printProgress } from '../../src/cli/progress.js';

const PULL: ProgressMessage[] = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 50, total: 100 }, progress: '[=====>     ]  50B/100B', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'bbb' },
  { status: 'Digest: sha256:123' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

async function* messages() {
  yield* PULL;
}

function sink(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

test('not on a terminal: one plain line per status, byte counts left out', async () => {
  const out = sink(false);
  assert.equal(await printProgress(messages(), out.stream), 'Status: Downloaded newer image for busybox:latest');
  assert.equal(
    out.text(),
    'latest: Pulling from library/busybox\naaa: Pulling fs layer\nbbb: Pulling fs layer\nbbb: Download complete\nDigest: sha256:123\nStatus: Downloaded newer image for busybox:latest\n',
  );
});

test('on a terminal: each layer keeps a line, redrawn in place with the cursor moves docker makes', async () => {
  const out = sink(true);
  await printProgress(messages(), out.stream);
  const redraw = (up: number, text: string) => `\x1b[${up}A\x1b[2K\r${text}\r\x1b[${up}B`;
  assert.equal(
    out.text(),
    'latest: Pulling from library/busybox\n' +
      `\n${redraw(1, 'aaa: Pulling fs layer')}` +
      `\n${redraw(1, 'bbb: Pulling fs layer')}` +
      redraw(2, 'aaa: Downloading [=====>     ]  50B/100B') +
      redraw(1, 'bbb: Download complete') +
      'Digest: sha256:123\nStatus: Downloaded newer image for busybox:latest\n',
  );
});
