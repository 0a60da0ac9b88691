import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { imageBusyboxCommand } from './image-busybox.js';
import { historyCommand } from './history.js';
import { imagePruneCommand } from './image-prune.js';
import { imagesCommand } from './images.js';
import { importCommand } from './import.js';
import { inspectCommand } from './inspect.js';
import { pullCommand } from './pull.js';
import { rmiCommand } from './rmi.js';
import { tagCommand } from './tag.js';

/** `berth image ...`: Docker's management-command spellings, plus the berth-only `busybox`. */
export function imageCommand(ctx: CliContext): Command {
  return new Command('image')
    .description('Manage images')
    .addCommand(imageBusyboxCommand(ctx))
    .addCommand(imagesCommand(ctx, 'ls'))
    .addCommand(rmiCommand(ctx, 'rm'))
    .addCommand(inspectCommand(ctx, 'image'))
    .addCommand(historyCommand(ctx))
    .addCommand(importCommand(ctx))
    .addCommand(imagePruneCommand(ctx))
    .addCommand(pullCommand(ctx))
    .addCommand(tagCommand(ctx));
}
