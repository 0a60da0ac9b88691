import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReceivedEvent } from '../../src/client/index.js';
import { CliExit } from '../../src/cli/cli-exit.js';
import { createContext } from '../../src/cli/context.js';
import { eventFormatter, eventsCommand, eventsQuery, type EventsFlags } from '../../src/cli/commands/events.js';
import { rfc3339NanoFixed } from '../../src/cli/format/duration.js';
import { TemplateError } from '../../src/cli/format/go-template.js';

/** The flags as the real `events` command parses them, without running it. */
function parseFlags(args: string[]): EventsFlags {
  const command = eventsCommand(createContext(() => undefined)).exitOverride();
  const { operands, unknown } = command.parseOptions(args);
  assert.deepEqual([operands, unknown], [[], []]);
  return command.opts<EventsFlags>();
}

function received(line: string, timeNano: bigint): ReceivedEvent {
  return { message: JSON.parse(line), line, timeNano };
}

const START =
  '{"status":"start","id":"3f4e","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"3f4e","Attributes":{"name":"web","image":"busybox","exitCode":"0"}},"scope":"local","time":1764480662,"timeNano":1764480662012345678}';

function withTimeZone(zone: string, body: () => void): void {
  const saved = process.env.TZ;
  process.env.TZ = zone;
  try {
    body();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

test('--since/--until take Unix seconds, RFC 3339 dates and durations back from now; -f repeats', () => {
  const now = new Date('2026-11-30T06:00:00Z');
  const flags = parseFlags(['--since', '10m', '--until', '2026-11-30T06:30:00Z', '-f', 'type=container', '--filter', 'event=start', '-f', 'event=die']);
  assert.deepEqual(eventsQuery(flags, now), {
    since: String(now.getTime() / 1000 - 600),
    until: String(Date.parse('2026-11-30T06:30:00Z') / 1000),
    filters: { type: ['container'], event: ['start', 'die'] },
  });
  assert.deepEqual(eventsQuery(parseFlags(['--since', '1764480000.5'])), { since: '1764480000.5', until: undefined, filters: undefined });
  assert.deepEqual(eventsQuery(parseFlags([])), { since: undefined, until: undefined, filters: undefined });
});

test('a filter without "=" is refused as docker refuses it, before any request', () => {
  assert.throws(() => eventsQuery(parseFlags(['-f', 'container'])), (err: unknown) => err instanceof CliExit && /bad format of filter/.test(err.message));
});

test('an unknown flag or an operand is a usage error', () => {
  for (const args of [['--follow'], ['web']]) {
    const command = eventsCommand(createContext(() => undefined)).exitOverride().configureOutput({ writeErr: () => undefined });
    assert.throws(() => command.parse(args, { from: 'user' }), { name: 'CommanderError' }, args.join(' '));
  }
});

test('the default line is docker\'s: time with nanoseconds, type, action, ID, sorted attributes', () => {
  withTimeZone('UTC', () => {
    assert.equal(
      eventFormatter(undefined)(received(START, 1764480662012345678n)),
      '2025-11-30T05:31:02.012345678Z container start 3f4e (exitCode=0, image=busybox, name=web)\n',
    );
    const bare = '{"Type":"network","Action":"create","Actor":{"ID":"n1"}}';
    assert.equal(eventFormatter('')(received(bare, 0n)), 'network create n1\n');
  });
});

test('event times are printed in the local zone, with its offset, as Go prints them', () => {
  withTimeZone('Asia/Kolkata', () => assert.equal(rfc3339NanoFixed(1764480662000000001n), '2025-11-30T11:01:02.000000001+05:30'));
  withTimeZone('America/New_York', () => assert.equal(rfc3339NanoFixed(1764480662500000000n), '2025-11-30T00:31:02.500000000-05:00'));
});

test('--format json prints each event as the daemon sent it', () => {
  assert.equal(eventFormatter('json')(received(START, 1764480662012345678n)), `${START}\n`);
});

test('--format templates see Go\'s field names, the exact timeNano, and {{json .}} as sent', () => {
  const event = received(START, 1764480662012345678n);
  assert.equal(
    eventFormatter('{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Scope}} {{.TimeNano}} {{.Status}}')(event),
    'container start web local 1764480662012345678 start\n',
  );
  assert.deepEqual(JSON.parse(eventFormatter('{{json .}}')(event)), JSON.parse(START));
  assert.equal(eventFormatter('{{json .Actor.Attributes}}')(event), '{"name":"web","image":"busybox","exitCode":"0"}\n');
});

test('a template construct berth does not carry out is refused when the command starts', () => {
  assert.throws(() => eventFormatter('{{template "x" .}}'), TemplateError);
  assert.equal(eventFormatter('{{upper .Type}}')(received(START, 0n)), 'CONTAINER\n');
});
