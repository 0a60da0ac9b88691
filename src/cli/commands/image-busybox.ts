import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { printImportedImageId } from '../progress.js';

/**
 * `berth image busybox` (berth-only): there is no registry to pull from here, so the base image
 * is made by importing a root filesystem built from the host's static busybox.
 */
export function imageBusyboxCommand(ctx: CliContext): Command {
  return new Command('busybox')
    .description(`Make the busybox:latest image from the host's static busybox (berth-only)`)
    .option('--binary <path>', 'Static busybox binary to use (default: the host\'s /bin/busybox)')
    .action(async (flags: { binary?: string }) => {
      // Loaded here, not at start-up: only this command needs the tar writer (7 ms of every CLI start).
      const { BUSYBOX_IMAGE_CHANGES, packBusyboxRootfs } = await import('../../bootstrap/busybox-rootfs.js');
      const progress = ctx.client().importImage(packBusyboxRootfs(flags.binary), {
        repo: 'busybox',
        tag: 'latest',
        changes: BUSYBOX_IMAGE_CHANGES,
        message: 'berth busybox base image',
      });
      await printImportedImageId(progress, ctx.stdout);
    });
}
