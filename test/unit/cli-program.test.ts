import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContext } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/main.js';

const commandsFor = (args?: string[]) => buildProgram(createContext(() => undefined), args).commands.map((c) => c.name());

test('a command line that names a command builds that command alone, past the global options', () => {
  assert.deepEqual(commandsFor(['ps', '-a']), ['ps']);
  assert.deepEqual(commandsFor(['-H', 'unix:///x.sock', 'run', '--rm', 'busybox']), ['run']);
  assert.deepEqual(commandsFor(['--host', 'unix:///x.sock', 'image', 'ls']), ['image']);
  assert.deepEqual(commandsFor(['--host=unix:///x.sock', 'events']), ['events']);
});

test('help, no command and an unknown one get every command, for the listing and suggestions', () => {
  const all = commandsFor();
  assert.ok(all.length > 20 && all.includes('events') && all.includes('version'), all.join(' '));
  for (const args of [[], ['--help'], ['help', 'ps'], ['pss'], ['-H', 'unix:///x.sock']]) {
    assert.deepEqual(commandsFor(args), all, args.join(' '));
  }
});
