/**
 * The confined half of extractTar (extract.ts), run as its own Node process:
 *   node extract-helper.js DEST_DIR overlay|delete  < layer.tar
 * Every module it needs is loaded by the imports below before it chroots into DEST_DIR, since
 * nothing outside that directory can be opened afterwards. Failures: see helper-process.ts.
 */
import { chroot } from '../native/index.js';
import { helperInput, runHelper } from './helper-process.js';
import { unpack } from './unpack.js';
import type { WhiteoutMode } from './whiteouts.js';

const [destDir, mode] = process.argv.slice(2);

await runHelper(async () => {
  if (!destDir || (mode !== 'overlay' && mode !== 'delete')) throw new Error('usage: extract-helper DEST_DIR overlay|delete');
  chroot(destDir);
  process.chdir('/');
  process.umask(0);
  await unpack(helperInput(), mode as WhiteoutMode);
});
