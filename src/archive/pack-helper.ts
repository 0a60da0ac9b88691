/**
 * The confined half of packDiff (pack.ts), run as its own Node process:
 *   node pack-helper.js TOP < entries.json > layer.tar
 * It chroots into TOP before it reads anything, so a running container that swaps a directory
 * for a symlink while its layer is read cannot make the tar carry a file from outside the layer.
 * Failures: see helper-process.ts.
 */
import { chroot } from '../native/index.js';
import { runHelper } from './helper-process.js';
import { writeDiffTar, type DiffEntry } from './pack-entries.js';

const [top] = process.argv.slice(2);

await runHelper(async () => {
  if (!top) throw new Error('usage: pack-helper TOP < entries.json');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const entries = JSON.parse(Buffer.concat(chunks).toString('utf8')) as DiffEntry[];
  chroot(top);
  process.chdir('/');
  await writeDiffTar('', entries, process.stdout);
});
