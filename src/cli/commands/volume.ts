import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { volumeCreateCommand } from './volume-create.js';
import { volumeExportCommand } from './volume-export.js';
import { volumeImportCommand } from './volume-import.js';
import { volumeInspectCommand } from './volume-inspect.js';
import { volumeLsCommand } from './volume-ls.js';
import { volumePruneCommand } from './volume-prune.js';
import { volumeRmCommand } from './volume-rm.js';

/** `berth volume ...`: Docker's volume commands, plus export and import (Berth's own endpoints). */
export function volumeCommand(ctx: CliContext): Command {
  return new Command('volume')
    .description('Manage volumes')
    .addCommand(volumeCreateCommand(ctx))
    .addCommand(volumeInspectCommand(ctx))
    .addCommand(volumeLsCommand(ctx))
    .addCommand(volumePruneCommand(ctx))
    .addCommand(volumeRmCommand(ctx))
    .addCommand(volumeExportCommand(ctx))
    .addCommand(volumeImportCommand(ctx));
}
