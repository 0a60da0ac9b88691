import { Command } from 'commander';
import { BUSYBOX_IMAGE_CHANGES, HOST_BUSYBOX, packBusyboxRootfs } from '../../bootstrap/busybox-rootfs.js';
import type { CliContext } from '../context.js';
import { printImportedImageId } from '../progress.js';

/**
 * `berth image busybox` (berth-only): there is no registry to pull from here, so the base image
 * is made by importing a root filesystem built from the host's static busybox.
 */
export function imageBusyboxCommand(ctx: CliContext): Command {
  return new Command('busybox')
    .description(`Make the busybox:latest image from the host's static busybox (berth-only)`)
    .option('--binary <path>', 'Static busybox binary to use', HOST_BUSYBOX)
    .action(async (flags: { binary: string }) => {
      const progress = ctx.client().importImage(packBusyboxRootfs(flags.binary), {
        repo: 'busybox',
        tag: 'latest',
        changes: BUSYBOX_IMAGE_CHANGES,
        message: 'berth busybox base image',
      });
      await printImportedImageId(progress, ctx.stdout);
    });
}
