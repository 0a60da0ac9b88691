/**
 * Parser nodes → typed instructions and stages, with Docker's checks and messages
 * (buildkit frontend/dockerfile/instructions/parse.go): argument counts, flags each
 * instruction accepts, stage names, HEALTHCHECK options, SHELL's JSON form, ONBUILD triggers.
 * Every error names the line: `dockerfile parse error on line N: …`.
 */
import { BerthError, invalidParameter } from '../../common/errors.js';
import { goDurationMs } from '../../common/go-duration.js';
import { parseDockerfile, parseError, type DockerfileNode, type ParsedDockerfile } from './dockerfile-parser.js';
import { chompHeredocContent, parseHeredocWord } from './heredoc.js';
import { InstructionFlags } from './instruction-flags.js';
import { suggestion } from './suggest.js';
import type {
  ArgDeclaration,
  CommandLine,
  DockerfileInstructions,
  HealthcheckSpec,
  Instruction,
  InstructionOf,
  KeyValue,
  Location,
  SourcesAndDest,
  Stage,
} from './instructions.js';

const INSTRUCTIONS = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck',
  'label', 'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Parses a Dockerfile's text into its meta ARGs and stages. */
export function parseInstructions(text: string): DockerfileInstructions {
  return instructionsOf(parseDockerfile(text));
}

export function instructionsOf(parsed: ParsedDockerfile): DockerfileInstructions {
  const metaArgs: Array<InstructionOf<'arg'>> = [];
  const stages: Stage[] = [];
  for (const node of parsed.nodes) {
    const parsedNode = parseNode(node);
    if (!('kind' in parsedNode)) {
      stages.push({ ...parsedNode, index: stages.length });
    } else if (stages.length === 0 && parsedNode.kind === 'arg') {
      metaArgs.push(parsedNode);
    } else if (stages.length === 0) {
      throw parseError(node.startLine, 'no build stage in current context');
    } else {
      stages.at(-1)!.commands.push(parsedNode);
    }
  }
  return { metaArgs, stages, escapeToken: parsed.escapeToken, warnings: parsed.warnings };
}

/** One instruction (ONBUILD triggers and `commit --change` lines parse one at a time). */
export function parseInstructionNode(node: DockerfileNode): Instruction {
  const parsed = parseNode(node);
  if (!('kind' in parsed)) throw parseError(node.startLine, `${node.keyword} isn't allowed here`);
  return parsed;
}

/** An ONBUILD trigger of a base image, as the child build runs it. */
export function parseTrigger(expression: string): Instruction {
  const parsed = parseDockerfile(expression);
  if (parsed.nodes.length !== 1) throw invalidParameter('onbuild trigger should be a single expression');
  return parseInstructionNode(parsed.nodes[0]!);
}

type Request = {
  node: DockerfileNode;
  args: string[];
  flags: InstructionFlags;
  common: { code: string; location: Location };
};

function parseNode(node: DockerfileNode): Instruction | Omit<Stage, 'index'> {
  const request: Request = {
    node,
    args: node.args,
    flags: new InstructionFlags(node.flags),
    common: { code: node.original.trim(), location: { startLine: node.startLine, endLine: node.endLine } },
  };
  const keyword = node.keyword.toLowerCase();
  try {
    const parse = PARSERS[keyword];
    if (!parse) throw new Error(`unknown instruction: ${node.keyword}${suggestion(node.keyword, INSTRUCTIONS)}`);
    return parse(request);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw parseError(node.startLine, (err as Error).message);
  }
}

const PARSERS: Record<string, (request: Request) => Instruction | Omit<Stage, 'index'>> = {
  env: (r) => ({ kind: 'env', env: keyValues(r, 'ENV'), ...r.common }),
  maintainer: (r) => {
    exactlyOne(r, 'MAINTAINER');
    parseFlags(r);
    return { kind: 'maintainer', maintainer: r.args[0]!, ...r.common };
  },
  label: (r) => ({ kind: 'label', labels: keyValues(r, 'LABEL'), ...r.common }),
  add: (r) => {
    if (r.args.length < 2) throw noDestination('ADD');
    const f = parseFlags(r, (flags) =>
      flags.string('chown').string('chmod').bool('link').bool('keep-git-dir').string('checksum').bool('unpack').strings('exclude'),
    );
    return {
      kind: 'add',
      ...sourcesAndDest(r, 'ADD'),
      chown: f.value('chown'),
      chmod: f.value('chmod'),
      link: f.flag('link') ?? false,
      keepGitDir: f.flag('keep-git-dir'),
      checksum: f.value('checksum'),
      unpack: f.flag('unpack'),
      excludes: f.list('exclude'),
      ...r.common,
    };
  },
  copy: (r) => {
    if (r.args.length < 2) throw noDestination('COPY');
    const f = parseFlags(r, (flags) =>
      flags.string('chown').string('from').string('chmod').bool('link').strings('exclude').bool('parents'),
    );
    return {
      kind: 'copy',
      ...sourcesAndDest(r, 'COPY'),
      from: f.value('from'),
      chown: f.value('chown'),
      chmod: f.value('chmod'),
      link: f.flag('link') ?? false,
      parents: f.flag('parents') ?? false,
      excludes: f.list('exclude'),
      ...r.common,
    };
  },
  from: (r) => {
    const name = stageName(r.args);
    const f = parseFlags(r, (flags) => flags.string('platform'));
    return { name, baseName: r.args[0]!, platform: f.value('platform'), code: r.common.code, location: r.common.location, commands: [] };
  },
  onbuild: (r) => {
    if (r.args.length === 0) throw atLeastOne('ONBUILD');
    parseFlags(r);
    const trigger = r.args[0]!.trim().toUpperCase();
    if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
    let expression = r.node.original.replace(/^\s*ONBUILD\s*/i, '');
    for (const heredoc of r.node.heredocs) expression += `\n${heredoc.content}${heredoc.name}`;
    return { kind: 'onbuild', expression, ...r.common };
  },
  workdir: (r) => {
    exactlyOne(r, 'WORKDIR');
    parseFlags(r);
    return { kind: 'workdir', path: r.args[0]!, ...r.common };
  },
  run: (r) => {
    // BuildKit's RUN options: accepted by the parser, refused by the classic builder by name.
    const f = parseFlags(r, (flags) => flags.strings('mount').string('network').string('security').strings('device'));
    return { kind: 'run', ...commandLine(r, false), flagsUsed: f.used(), ...r.common };
  },
  cmd: (r) => {
    parseFlags(r);
    return { kind: 'cmd', ...commandLine(r, false), ...r.common };
  },
  entrypoint: (r) => {
    parseFlags(r);
    return { kind: 'entrypoint', ...commandLine(r, true), ...r.common };
  },
  healthcheck: (r) => ({ kind: 'healthcheck', health: healthcheck(r), ...r.common }),
  expose: (r) => {
    if (r.args.length === 0) throw atLeastOne('EXPOSE');
    parseFlags(r);
    return { kind: 'expose', ports: [...r.args].sort(), ...r.common };
  },
  user: (r) => {
    exactlyOne(r, 'USER');
    parseFlags(r);
    return { kind: 'user', user: r.args[0]!, ...r.common };
  },
  volume: (r) => {
    if (r.args.length === 0) throw atLeastOne('VOLUME');
    parseFlags(r);
    const volumes = r.args.map((v) => v.trim());
    if (volumes.includes('')) throw new Error('VOLUME specified can not be an empty string');
    return { kind: 'volume', volumes, ...r.common };
  },
  stopsignal: (r) => {
    exactlyOne(r, 'STOPSIGNAL');
    return { kind: 'stopsignal', signal: r.args[0]!, ...r.common };
  },
  arg: (r) => {
    if (r.args.length === 0) throw atLeastOne('ARG');
    const args: ArgDeclaration[] = r.args.map((arg) => {
      const eq = arg.indexOf('=');
      if (eq === -1) return { key: arg };
      if (eq === 0) throw new Error('ARG names can not be blank');
      return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
    });
    return { kind: 'arg', args, ...r.common };
  },
  shell: (r) => {
    parseFlags(r);
    const shell = jsonArgs(r);
    if (shell.length === 0) throw atLeastOne('SHELL');
    if (!r.node.json) throw new Error('SHELL requires the arguments to be in JSON form');
    return { kind: 'shell', shell, ...r.common };
  },
};

function parseFlags(r: Request, declare?: (flags: InstructionFlags) => InstructionFlags): InstructionFlags {
  return (declare ? declare(r.flags) : r.flags).parse();
}

const atLeastOne = (command: string) => new Error(`${command} requires at least one argument`);
const noDestination = (command: string) =>
  new Error(`${command} requires at least two arguments, but only one was provided. Destination could not be determined`);

function exactlyOne(r: Request, command: string): void {
  if (r.args.length !== 1) throw new Error(`${command} requires exactly one argument`);
}

/** ENV and LABEL: the parser's (key, value, '=' | '') triples. */
function keyValues(r: Request, command: string): KeyValue[] {
  parseFlags(r);
  if (r.args.length === 0) throw atLeastOne(command);
  if (r.args.length % 3 !== 0) throw new Error(`Bad input to ${command}, too many arguments`);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < r.args.length; i += 3) {
    if (r.args[i] === '') throw new Error(`${command} names can not be blank`);
    pairs.push({ key: r.args[i]!, value: r.args[i + 1]! });
  }
  return pairs;
}

/** The exec form's words, or the shell form's one string. */
function jsonArgs(r: Request): string[] {
  if (r.args.length === 0) return [];
  return r.node.json ? [...r.args] : [r.args.join(' ')];
}

function commandLine(r: Request, emptyAsNull: boolean): CommandLine {
  const args = jsonArgs(r);
  return {
    cmdLine: emptyAsNull && args.length === 0 ? null : args,
    prependShell: !r.node.json,
    files: r.node.heredocs.map((heredoc) => ({ name: heredoc.name, data: heredoc.content, chomp: heredoc.chomp })),
  };
}

function sourcesAndDest(r: Request, command: string): SourcesAndDest {
  const dest = r.args.at(-1)!;
  if (parseHeredocWord(dest)) throw new Error(`${command} cannot accept a heredoc as a destination`);
  const bodies = new Map(r.node.heredocs.map((heredoc) => [heredoc.name, heredoc]));
  const result: SourcesAndDest = { sources: [], contents: [], dest };
  for (const source of r.args.slice(0, -1)) {
    const heredoc = parseHeredocWord(source);
    if (!heredoc) {
      result.sources.push(source);
      continue;
    }
    const body = bodies.get(heredoc.name)?.content ?? '';
    result.contents.push({ path: heredoc.name, data: heredoc.chomp ? chompHeredocContent(body) : body, expand: heredoc.expand });
  }
  return result;
}

function stageName(args: string[]): string {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    }
    return name;
  }
  if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
  return '';
}

/** A duration option of HEALTHCHECK in nanoseconds: '' and 0 inherit, less than 1ms is refused. */
function healthInterval(flags: InstructionFlags, name: string): number {
  const value = flags.value(name);
  if (value === '') return 0;
  const ms = goDurationMs(value);
  if (ms === undefined) throw new Error(`time: invalid duration ${JSON.stringify(value)}`);
  if (ms === 0) return 0;
  if (ms < 1) throw new Error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}

function healthcheck(r: Request): HealthcheckSpec {
  if (r.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = r.args[0]!.toUpperCase();
  const rest = r.args.slice(1);
  const none = { interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (type === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'], ...none };
  }
  const f = parseFlags(r, (flags) => flags.string('interval').string('timeout').string('start-period').string('start-interval').string('retries'));
  if (type !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const command = rest.length === 0 ? [] : r.node.json ? rest : [rest.join(' ')];
  if (command.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const health: HealthcheckSpec = {
    test: [r.node.json ? 'CMD' : 'CMD-SHELL', ...command],
    interval: healthInterval(f, 'interval'),
    timeout: healthInterval(f, 'timeout'),
    startPeriod: healthInterval(f, 'start-period'),
    startInterval: healthInterval(f, 'start-interval'),
    retries: 0,
  };
  const retries = f.value('retries');
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    }
    if (Number(retries) < 0) throw new Error(`--retries cannot be negative (${Number(retries)})`);
    health.retries = Number(retries);
  }
  return health;
}
