/**
 * The confined half of extractTar (extract.ts), run as its own Node process:
 *   node extract-helper.js DEST_DIR overlay|delete  < layer.tar
 * Every module it needs is loaded by the imports below before it chroots into DEST_DIR, since
 * nothing outside that directory can be opened afterwards. On failure it writes one JSON line
 * {message, code} to stderr and exits with status 1.
 */
import { chroot } from '../native/index.js';
import { unpack } from './unpack.js';
import type { WhiteoutMode } from './whiteouts.js';

const [destDir, mode] = process.argv.slice(2);

try {
  if (!destDir || (mode !== 'overlay' && mode !== 'delete')) throw new Error('usage: extract-helper DEST_DIR overlay|delete');
  chroot(destDir);
  process.chdir('/');
  process.umask(0);
  await unpack(process.stdin, mode as WhiteoutMode);
} catch (err) {
  const failure = err as NodeJS.ErrnoException;
  process.stderr.write(`${JSON.stringify({ message: failure.message ?? String(err), code: failure.code })}\n`);
  process.exitCode = 1;
}
