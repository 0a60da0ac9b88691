import { Command } from 'commander';
import type { HistoryResponseItem } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { rfc3339, timeAgo } from '../format/duration.js';
import { renderList } from '../format/list-format.js';
import { humanSize } from '../format/size.js';
import { ellipsis, shortId } from '../format/text.js';
import { boolFlag } from '../signal-proxy.js';

interface HistoryFlags {
  human?: string | boolean;
  trunc: boolean;
  quiet?: boolean;
  format?: string;
}

const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export function historyCommand(ctx: CliContext): Command {
  return new Command('history')
    .description('Show the history of an image')
    .option('--format <string>', "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
    .option('-H, --human [bool]', 'Print sizes and dates in human readable format (default true)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .argument('<image>')
    .action(async (image: string, flags: HistoryFlags) => {
      const history = await ctx.client().imageHistory(image);
      // pflag takes `-H=false` as the value "=false".
      const human = boolFlag(typeof flags.human === 'string' ? flags.human.replace(/^=/, '') : flags.human, true);
      if (flags.quiet) {
        ctx.stdout.write(history.map((item) => `${flags.trunc ? truncatedId(item.Id) : item.Id}\n`).join(''));
        return;
      }
      ctx.stdout.write(historyTable(history, { human, truncate: flags.trunc, format: flags.format }));
    });
}

function truncatedId(id: string): string {
  return id === '<missing>' ? id : shortId(id);
}

/** The docker CLI's history formatter: one row per history entry, newest first. */
export function historyTable(history: HistoryResponseItem[], options: { human: boolean; truncate: boolean; format?: string }, now = new Date()): string {
  const rows = history.map((item) => {
    const createdBy = item.CreatedBy.replace(/\t/g, ' ');
    return {
      ID: options.truncate ? truncatedId(item.Id) : item.Id,
      CreatedSince: options.human ? timeAgo(item.Created, now) : rfc3339(item.Created),
      CreatedAt: rfc3339(item.Created),
      CreatedBy: options.truncate ? ellipsis(createdBy, 45) : createdBy,
      Size: options.human ? humanSize(item.Size) : String(item.Size),
      Comment: item.Comment,
    };
  });
  const titles = {
    ID: 'IMAGE',
    CreatedSince: options.human ? 'CREATED' : 'CREATED AT',
    CreatedAt: 'CREATED AT',
    CreatedBy: 'CREATED BY',
    Size: 'SIZE',
    Comment: 'COMMENT',
  };
  return renderList(!options.format || options.format === 'table' ? HISTORY_TABLE : options.format, rows, titles);
}
