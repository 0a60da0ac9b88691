import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContext } from '../../src/cli/context.js';
import { CliExit } from '../../src/cli/cli-exit.js';
import { buildProgram } from '../../src/cli/main.js';
import { colourful } from '../../src/cli/colour.js';
import { printHelpTopic } from '../../src/cli/help-topic.js';

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

test('docker\'s global flags: -D, -l, --config and --context default are accepted; other contexts and TLS refused by name', async () => {
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
  assert.equal(await run(['--config', '/x', '--context', 'default', 'ps']), 0);
  const refused = (args: string[]) => buildProgram(ctx, args).parseAsync(args, { from: 'user' });
  await assert.rejects(refused(['--context', 'prod', 'ps']), /^CliExit: berth: context "prod" is not supported: berth has only the default context/);
  await assert.rejects(refused(['-c', 'default', '-H', 'unix:///x.sock', 'ps']), /conflicting options: cannot specify both --host and --context/);
  for (const flag of ['--tls', '--tlsverify']) {
    await assert.rejects(refused([flag, 'ps']), new RegExp(`berth: ${flag} is not supported: berth speaks to the daemon without TLS only`));
  }
  await assert.rejects(refused(['--tlscacert', '/ca.pem', 'ps']), /berth: --tlscacert is not supported/);
  assert.deepEqual(commandsFor(['--tlscert', '/c.pem', 'ps']), ['ps']);
});

test('a docker flag berth does not carry out yet is refused by name with its reason, before any request', async () => {
  const line = ['run', '--rm', '--ip6', 'fe80::9', 'busybox'];
  await assert.rejects(buildProgram(createContext(() => undefined), line).parseAsync(line, { from: 'user' }), (err: unknown) => {
    assert.ok(err instanceof CliExit);
    assert.equal(err.code, 125);
    assert.match(err.message, /^berth: --ip6 is not supported yet: IPv6 and removing links/);
    return true;
  });
  assert.doesNotMatch(buildProgram(createContext(() => undefined), ['run']).commands[0]!.helpInformation(), /--ip6/);
});

test('berth help WORDS prints the help of the command the words name; an unknown word is an unknown help topic', () => {
  const program = buildProgram(createContext(() => undefined));
  const out: string[] = [];
  const stdout = { write: (text: string) => out.push(text) } as unknown as NodeJS.WritableStream;
  printHelpTopic(program, ['container', 'ls'], stdout);
  assert.match(out.join(''), /^Usage: berth container ls\|ps \[options\]\n\nList containers\n/);
  printHelpTopic(program, ['container', 'list'], stdout);
  assert.throws(() => printHelpTopic(program, ['container', 'nosuch'], stdout), (err: unknown) => {
    assert.ok(err instanceof CliExit);
    assert.deepEqual([err.code, err.message], [1, 'unknown help topic: nosuch']);
    return true;
  });
});

test('colour only on a terminal, and not with NO_COLOR or TERM=dumb', () => {
  const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
  assert.equal(colourful(tty, {}), true);
  assert.equal(colourful(tty, { NO_COLOR: '1' }), false);
  assert.equal(colourful(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
  assert.equal(colourful(tty, { TERM: 'dumb' }), false);
  assert.equal(colourful({} as NodeJS.WritableStream, {}), false);
});

test('a usage error of a subcommand is written to the context\'s stderr, as the program\'s own', async () => {
  const stderr: string[] = [];
  const ctx = { ...createContext(() => undefined), stderr: { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WriteStream };
  for (const line of [['create', '--bogus', 'busybox'], ['container', 'ls', '--bogus']]) {
    stderr.length = 0;
    await assert.rejects(buildProgram(ctx, line).parseAsync(line, { from: 'user' }), { code: 'commander.unknownOption', exitCode: 125 });
    const usage = line[0] === 'create' ? 'berth create [options] <image> [command...]' : 'berth container ls|ps [options]';
    const help = line[0] === 'create' ? 'berth create' : 'berth container ls';
    assert.equal(stderr.join(''), `unknown flag: --bogus\n\nUsage:  ${usage}\n\nRun '${help} --help' for more information\n`, line.join(' '));
  }
});
