import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContext } from '../../src/cli/context.js';
import { CliExit } from '../../src/cli/cli-exit.js';
import { buildProgram } from '../../src/cli/main.js';

const commandsFor = (args?: string[]) => buildProgram(createContext(() => undefined), args).commands.map((c) => c.name());

test('a command line that names a command builds that command alone, past the global options', () => {
  assert.deepEqual(commandsFor(['ps', '-a']), ['ps']);
  assert.deepEqual(commandsFor(['-H', 'unix:///x.sock', 'run', '--rm', 'busybox']), ['run']);
  assert.deepEqual(commandsFor(['--host', 'unix:///x.sock', 'image', 'ls']), ['image']);
  assert.deepEqual(commandsFor(['--host=unix:///x.sock', 'events']), ['events']);
  assert.deepEqual(commandsFor(['--version']), []);
  assert.deepEqual(commandsFor(['-H', 'unix:///x.sock', '-v']), []);
});

test('help, no command and an unknown one get every command, for the listing and suggestions', () => {
  const all = commandsFor();
  assert.ok(all.length > 20 && all.includes('events') && all.includes('version'), all.join(' '));
  for (const args of [[], ['--help'], ['help', 'ps'], ['pss'], ['-H', 'unix:///x.sock'], ['-v', '--help']]) {
    assert.deepEqual(commandsFor(args), all, args.join(' '));
  }
});

test('docker\'s global flags: -D and -l are accepted, --context and --config refused by name', async () => {
  const stderr: string[] = [];
  const ctx = { ...createContext(() => undefined), stderr: { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WriteStream };
  const run = async (args: string[]) => {
    const program = buildProgram(ctx, args);
    // The command's own action is replaced: only the global flags are under test.
    for (const command of program.commands) command.action(() => undefined);
    try {
      await program.parseAsync(args, { from: 'user' });
      return 0;
    } catch (err) {
      return (err as { code?: unknown; exitCode?: number }).exitCode ?? (err as { code: number }).code;
    }
  };
  assert.equal(await run(['-D', '-l', 'debug', 'ps']), 0);
  assert.deepEqual(commandsFor(['-l', 'warn', '--config', '/x', 'ps']), ['ps']);
  assert.equal(await run(['-l', 'loud', 'ps']), 1);
  assert.match(stderr.join(''), /Allowed choices are debug, info, warn, error, fatal/);
  await assert.rejects(buildProgram(ctx, ['--context', 'prod', 'ps']).parseAsync(['--context', 'prod', 'ps'], { from: 'user' }), /--context is not supported/);
  await assert.rejects(buildProgram(ctx, ['--config', '/x', 'ps']).parseAsync(['--config', '/x', 'ps'], { from: 'user' }), /--config is not supported/);
});

test('a docker flag berth does not carry out yet is refused by name with its reason, before any request', async () => {
  const line = ['run', '--rm', '--mac-address', '02:42:ac:11:00:02', 'busybox'];
  await assert.rejects(buildProgram(createContext(() => undefined), line).parseAsync(line, { from: 'user' }), (err: unknown) => {
    assert.ok(err instanceof CliExit);
    assert.equal(err.code, 125);
    assert.match(err.message, /^berth: --mac-address is not supported yet: IPv6, link-local addresses, fixed MAC addresses/);
    return true;
  });
  assert.doesNotMatch(buildProgram(createContext(() => undefined), ['run']).commands[0]!.helpInformation(), /--mac-address/);
});
