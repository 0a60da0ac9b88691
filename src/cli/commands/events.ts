import { once } from 'node:events';
import { Command } from 'commander';
import type { EventsOptions, ReceivedEvent } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { rfc3339NanoFixed } from '../format/duration.js';
import { executeTemplate, parseTemplate } from '../format/go-template.js';
import { collect, filterOptions } from '../option-values.js';
import { apiTimestamp } from '../since-time.js';

export interface EventsFlags {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
}

/** `berth events`: the daemon's events as they happen (and past ones with --since), until --until or Ctrl-C. */
export function eventsCommand(ctx: CliContext): Command {
  return new Command('events')
    .description('Get real time events from the server')
    .allowExcessArguments(false)
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', "Format output using a custom template: 'json' or a Go template")
    .action(async (flags: EventsFlags) => {
      // A bad template or filter is reported before anything is asked of the daemon.
      const format = eventFormatter(flags.format);
      for await (const event of ctx.client().events(eventsQuery(flags))) {
        if (!ctx.stdout.write(format(event))) await once(ctx.stdout, 'drain');
      }
    });
}

/** The API query for the flags; times as the docker CLI reads them (Unix seconds, RFC 3339, or "10m" ago). */
export function eventsQuery(flags: EventsFlags, now = new Date()): EventsOptions {
  return {
    since: flags.since === undefined ? undefined : apiTimestamp(flags.since, now),
    until: flags.until === undefined ? undefined : apiTimestamp(flags.until, now),
    filters: filterOptions(flags.filter),
  };
}

/**
 * Turns an event into its output line: docker's own layout by default, the line as the daemon sent
 * it for `json`, else the template run over the event as Go's events.Message names its fields.
 */
export function eventFormatter(format: string | undefined): (event: ReceivedEvent) => string {
  if (format === undefined || format === '') return prettyEvent;
  if (format === 'json') return (event) => `${event.line}\n`;
  const template = parseTemplate(format);
  return (event) => `${executeTemplate(template, templateData(event))}\n`;
}

/** "2026-11-30T05:31:02.123456789Z container start 3f4e… (image=busybox, name=web)", as docker prints it. */
function prettyEvent({ message, timeNano }: ReceivedEvent): string {
  const time = timeNano === 0n ? '' : `${rfc3339NanoFixed(timeNano)} `;
  const attributes = Object.entries(message.Actor?.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  const suffix = attributes.length > 0 ? ` (${attributes.join(', ')})` : '';
  return `${time}${message.Type} ${message.Action} ${message.Actor?.ID ?? ''}${suffix}\n`;
}

/**
 * The event under the names a docker template uses ({{.Actor.Attributes.name}}, {{.TimeNano}});
 * `{{json .}}` prints it as the daemon sent it, as Go's json.Marshal of the same message would.
 */
function templateData({ message, line, timeNano }: ReceivedEvent): Record<string, unknown> {
  return {
    Status: message.status ?? '',
    ID: message.id ?? '',
    From: message.from ?? '',
    Type: message.Type,
    Action: message.Action,
    Actor: { ID: message.Actor?.ID ?? '', Attributes: message.Actor?.Attributes ?? {} },
    Scope: message.scope ?? '',
    Time: message.time ?? 0,
    // A string: the exact digits, which a JS number would round.
    TimeNano: timeNano.toString(),
    toJSON: () => JSON.parse(line) as unknown,
  };
}
