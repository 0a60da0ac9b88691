/**
 * The ledger cannot drift from Docker: for every command berth shares with the docker CLI (the
 * real one, /usr/local/bin/docker), each flag its own --help lists is either one berth carries out
 * or one berth declares and refuses with a reason (src/cli/not-carried-out.ts); and every refused
 * flag is still a docker flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { createContext } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/main.js';
import { NOT_CARRIED_OUT } from '../../src/cli/not-carried-out.js';

const DOCKER = '/usr/local/bin/docker';
/** berth's own commands, which docker has not (or has with other subcommands). */
const BERTH_ONLY = new Set(['image busybox', 'completion', 'volume export', 'volume import']);

function leaves(command: Command, prefix = ''): [string, Command][] {
  return command.commands
    .filter((child) => child.name() !== 'help')
    .flatMap((child): [string, Command][] => {
      const path = prefix === '' ? child.name() : `${prefix} ${child.name()}`;
      return child.commands.length > 0 ? leaves(child, path) : [[path, child]];
    });
}

/** The long flags `docker PATH --help` lists, --help itself aside. */
function dockerFlags(path: string): string[] {
  const help = execFileSync(DOCKER, [...path.split(' '), '--help'], { encoding: 'utf8' });
  return [...help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!).filter((flag) => flag !== '--help');
}

const commands = leaves(buildProgram(createContext(() => undefined))).filter(([path]) => !BERTH_ONLY.has(path));

test('every docker flag of every shared command is carried out or refused with a reason', () => {
  const missing: string[] = [];
  for (const [path, command] of commands) {
    const declared = new Set(command.options.map((option) => option.long));
    for (const flag of dockerFlags(path)) if (!declared.has(flag)) missing.push(`${path} ${flag}`);
  }
  assert.deepEqual(missing, [], 'docker flags berth neither carries out nor lists in src/cli/not-carried-out.ts');
});

test('every refused flag is still a docker flag of that command', () => {
  for (const [path, refused] of Object.entries(NOT_CARRIED_OUT)) {
    const flags = new Set(dockerFlags(path));
    for (const [spec] of refused) {
      const long = /--[\w-]+/.exec(spec)![0];
      assert.ok(flags.has(long), `${path} ${long} is no longer a docker flag`);
    }
  }
  assert.ok(commands.length > 25, `only ${commands.length} shared commands found`);
});
