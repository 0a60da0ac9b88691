/**
 * What each instruction of a stage does to the image being built, as Docker's classic builder
 * dispatches it (moby daemon/builder/dockerfile dispatchers.go, internals.go), without doing
 * any of it: the evaluator keeps the stage's image config and build args, substitutes variables
 * where Docker does (expansion.ts), updates the config, and tells the builder what is left to
 * carry out — run a command, copy files, make the working directory, or nothing but a new
 * config — with the history text (`created_by`) and the cache probe config Docker would record.
 *
 * created_by is the cache probe's Cmd joined with spaces, as Docker's image history has it:
 * - config-only steps: `/bin/sh -c #(nop)  CMD ["sh"]` (the shell, "#(nop) ", the comment);
 * - COPY/ADD/WORKDIR: `/bin/sh -c #(nop) COPY file:<sum> in /dest ` (one argument, no gap);
 * - RUN: the command, after `|N K=v…` when build args are in scope: `|1 A=b /bin/sh -c make`.
 */
import { isRemoteSource } from './copy-sources.js';
import { invalidParameter } from '../../common/errors.js';
import type { HealthConfigWire } from '../../wire/containers.js';
import type { ContainerConfigFields } from '../images/image-config.js';
import { parseSignal } from '../containers/signals.js';
import type { BuildArgs } from './build-args.js';
import { expandInstruction } from './expansion.js';
import { exposedPortKeys } from './exposed-ports.js';
import { goHealthcheck, goList, goQuoteList } from './go-format.js';
import { chompHeredocContent, parseHeredocWord } from './heredoc.js';
import type { HealthcheckSpec, Instruction, InstructionOf } from './instructions.js';
import { envFromList, type ShellLex } from './shell-lex.js';
import { posix } from 'node:path';

/** The image config the build works on: Docker's container config, SHELL included. */
export type RunConfig = ContainerConfigFields & { Shell?: string[] | null; ArgsEscaped?: boolean };

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where a `#!` heredoc script of RUN is shown to the command (BuildKit's place). */
export const SCRIPT_DIR = '/dev/pipes';

/** How a step is recorded: its history line and the config its cache entry is keyed on. */
export interface StepRecord {
  createdBy: string;
  probe: RunConfig;
  /** A RUN's `#!` heredoc: the builder shows `data` at `path` for the run (see StepAction). */
  script?: { path: string; data: string };
}

export type CopyInstruction = InstructionOf<'copy'> | InstructionOf<'add'>;

export type StepAction =
  /** Only the config changes: the builder commits an image with an empty layer. */
  | (StepRecord & { kind: 'config'; /** A line Docker prints for the step (HEALTHCHECK override). */ note?: string })
  /**
   * Run `command` in a container of the current image; its changes are the step's layer. A
   * `RUN <<EOF` whose body starts with `#!` runs as a script: the builder shows `script.data`
   * at `script.path` (mode 0755, read-only, outside the layer) for the run.
   */
  | (StepRecord & { kind: 'run'; command: string[]; env: string[] })
  /** Make `path` (root-owned, like Docker) in a layer over the current image. */
  | (StepRecord & { kind: 'workdir'; path: string })
  /**
   * Copy the sources into `dest` (absolute; a trailing '/' kept): the record depends on the
   * sources' content hash (file-hash.ts), so the builder asks for it once it has computed it.
   */
  | { kind: 'copy'; instruction: CopyInstruction; dest: string; decompress: boolean; record(sourceHash: string): StepRecord };

/** A copy of a config whose lists and maps can be changed without touching the original. */
function clone(config: RunConfig): RunConfig {
  const copy: RunConfig = { ...config };
  for (const key of ['Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell'] as const) {
    const list = config[key];
    if (list) copy[key] = [...list];
  }
  for (const key of ['ExposedPorts', 'Volumes', 'Labels'] as const) {
    const map = config[key];
    if (map) (copy as Record<string, unknown>)[key] = { ...map };
  }
  if (config.Healthcheck) copy.Healthcheck = { ...config.Healthcheck, Test: config.Healthcheck.Test && [...config.Healthcheck.Test] };
  return copy;
}

/** An ADD source Docker downloads (moby's urlutil.IsURL); COPY refuses them. */

/** Docker's normalizeWorkdir: relative to the current one, cleaned, absolute. */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw invalidParameter('cannot normalize nothing');
  return posix.isAbsolute(requested) ? posix.normalize(requested) : posix.join('/', current, requested);
}

/** Docker's normalizeDest: relative to the working directory, a trailing '/' kept. */
export function normalizeDest(workingDir: string, requested: string): string {
  if (posix.isAbsolute(requested)) return requested;
  const dest = posix.join('/', workingDir, requested);
  return requested.endsWith('/') && !dest.endsWith('/') ? `${dest}/` : dest;
}

function healthWire(health: HealthcheckSpec): HealthConfigWire {
  // As Docker stores it: zero values left out (omitempty).
  const wire: HealthConfigWire = { Test: health.test };
  if (health.interval) wire.Interval = health.interval;
  if (health.timeout) wire.Timeout = health.timeout;
  if (health.startPeriod) wire.StartPeriod = health.startPeriod;
  if (health.startInterval) wire.StartInterval = health.startInterval;
  if (health.retries) wire.Retries = health.retries;
  return wire;
}

export class StageEvaluator {
  readonly config: RunConfig;
  /** MAINTAINER: the author of the images this stage commits. */
  maintainer: string | undefined;
  /** ONBUILD triggers the base image carried: the builder runs them first, as a child build. */
  triggers: string[] = [];
  private cmdSet = false;

  /** Evaluates instructions on `config` as it is (`commit --change` / `import --change`). */
  constructor(
    config: RunConfig,
    readonly args: BuildArgs,
    private readonly lex: ShellLex,
  ) {
    this.config = clone(config);
  }

  /**
   * Starts a build stage on `base` (the base image's config; undefined for scratch): PATH gets
   * Docker's default when the image has none, and the image's ONBUILD triggers move to `triggers`.
   */
  static beginStage(base: RunConfig | undefined, args: BuildArgs, lex: ShellLex): StageEvaluator {
    const evaluator = new StageEvaluator(base ?? {}, args, lex);
    const config = evaluator.config;
    const env = config.Env ?? [];
    if (!env.some((entry) => entry.split('=', 1)[0] === 'PATH')) config.Env = [...env, DEFAULT_PATH_ENV];
    evaluator.triggers = config.OnBuild ?? [];
    config.OnBuild = null;
    return evaluator;
  }

  private shell(): string[] {
    return this.config.Shell && this.config.Shell.length > 0 ? [...this.config.Shell] : [...DEFAULT_SHELL];
  }

  /** A config-only step: the probe's Cmd is the shell, "#(nop) " and the comment, as two words. */
  private commit(comment: string, note?: string): StepAction {
    const probe = clone(this.config);
    probe.Cmd = [...this.shell(), '#(nop) ', comment];
    return { kind: 'config', createdBy: probe.Cmd.join(' '), probe, note };
  }

  /** COPY, ADD and WORKDIR keep Docker's older one-word comment. */
  private commentRecord(comment: string): StepRecord {
    const probe = clone(this.config);
    probe.Cmd = [...this.shell(), `#(nop) ${comment}`];
    return { createdBy: probe.Cmd.join(' '), probe };
  }

  /** Substitutes the instruction's variables (stage ENV first, then the allowed build args) and evaluates it. */
  step(raw: Instruction): StepAction {
    const env = this.config.Env ?? [];
    const expanded = expandInstruction(raw, this.lex, envFromList([...env, ...this.args.filterAllowed(env)]));
    try {
      return this.dispatch(expanded);
    } catch (err) {
      if (err instanceof Error && !('kind' in err)) throw invalidParameter(err.message, err);
      throw err;
    }
  }

  private dispatch(instruction: Instruction): StepAction {
    const config = this.config;
    switch (instruction.kind) {
      case 'env': {
        const list = [...(config.Env ?? [])];
        for (const { key, value } of instruction.env) {
          const entry = `${key}=${value}`;
          const at = list.findIndex((existing) => existing === key || existing.startsWith(`${key}=`));
          if (at === -1) list.push(entry);
          else list[at] = entry;
        }
        config.Env = list;
        return this.commit(`ENV ${instruction.env.map(({ key, value }) => `${key}=${value}`).join(' ')}`);
      }
      case 'maintainer':
        this.maintainer = instruction.maintainer;
        return this.commit(`MAINTAINER ${instruction.maintainer}`);
      case 'label':
        config.Labels = { ...(config.Labels ?? {}) };
        for (const { key, value } of instruction.labels) config.Labels[key] = value;
        return this.commit(`LABEL ${instruction.labels.map(({ key, value }) => `${key}=${value}`).join(' ')}`);
      case 'onbuild':
        config.OnBuild = [...(config.OnBuild ?? []), instruction.expression];
        return this.commit(`ONBUILD ${instruction.expression}`);
      case 'workdir': {
        config.WorkingDir = normalizeWorkdir(config.WorkingDir ?? '', instruction.path);
        return { kind: 'workdir', path: config.WorkingDir, ...this.commentRecord(`WORKDIR ${config.WorkingDir}`) };
      }
      case 'run':
        return this.run(instruction);
      case 'cmd': {
        const cmd = this.commandOf(instruction);
        config.Cmd = cmd;
        config.ArgsEscaped = false;
        if ((instruction.cmdLine ?? []).length > 0) this.cmdSet = true;
        return this.commit(`CMD ${goQuoteList(cmd)}`);
      }
      case 'entrypoint':
        config.Entrypoint = this.commandOf(instruction);
        config.ArgsEscaped = false;
        if (!this.cmdSet) config.Cmd = null;
        return this.commit(`ENTRYPOINT ${goQuoteList(config.Entrypoint)}`);
      case 'healthcheck': {
        const previous = config.Healthcheck?.Test;
        const note = previous && previous.length > 0 && previous[0] !== 'NONE' ? `Note: overriding previous HEALTHCHECK: ${goList(previous)}` : undefined;
        config.Healthcheck = healthWire(instruction.health);
        return this.commit(`HEALTHCHECK ${goHealthcheck(instruction.health)}`, note);
      }
      case 'expose':
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
        for (const port of instruction.ports) for (const key of exposedPortKeys(port)) config.ExposedPorts[key] = {};
        return this.commit(`EXPOSE ${instruction.ports.join(' ')}`);
      case 'user':
        config.User = instruction.user;
        return this.commit(`USER ${instruction.user}`);
      case 'volume':
        config.Volumes = { ...(config.Volumes ?? {}) };
        for (const volume of instruction.volumes) {
          if (volume === '') throw new Error('VOLUME specified can not be an empty string');
          config.Volumes[volume] = {};
        }
        return this.commit(`VOLUME ${goList(instruction.volumes)}`);
      case 'stopsignal':
        parseSignal(instruction.signal);
        config.StopSignal = instruction.signal;
        return this.commit(`STOPSIGNAL ${instruction.signal}`);
      case 'arg':
        for (const { key, value } of instruction.args) this.args.addArg(key, value);
        return this.commit(`ARG ${instruction.args.map(({ key, value }) => (value === undefined ? key : `${key}=${value}`)).join(' ')}`);
      case 'shell':
        config.Shell = instruction.shell;
        return this.commit(`SHELL ${goList(instruction.shell)}`);
      case 'copy':
      case 'add':
        return this.copy(instruction);
    }
  }

  /** Docker's resolveCmdLine: the shell form runs under SHELL. */
  private commandOf(instruction: InstructionOf<'run' | 'cmd' | 'entrypoint'>): string[] | null {
    const cmd = instruction.cmdLine;
    return instruction.prependShell && cmd !== null ? [...this.shell(), ...cmd] : cmd;
  }

  /**
   * Heredocs of RUN, as BuildKit runs them: `RUN <<EOF` alone makes the body the shell's script
   * (or, starting with `#!`, a file run directly); `RUN cmd <<EOF` hands the shell the line,
   * the body and the terminator, so the shell itself feeds the body to `cmd`.
   */
  private heredocCommand(instruction: InstructionOf<'run'>): { instruction: InstructionOf<'run'>; script?: { path: string; data: string } } {
    const files = instruction.files;
    const args = instruction.cmdLine ?? [];
    if (files.length === 0) return { instruction };
    if (args.length !== 1 || !instruction.prependShell) throw new Error(`parsing produced an invalid run command: ${goList(args)}`);
    if (!parseHeredocWord(args[0]!)) {
      const line = files.reduce((text, file) => `${text}\n${file.data}${file.name}`, args[0]!);
      return { instruction: { ...instruction, cmdLine: [line] } };
    }
    const first = files[0]!;
    const data = first.chomp ? chompHeredocContent(first.data) : first.data;
    if (!data.startsWith('#!')) return { instruction: { ...instruction, cmdLine: [data] } };
    // The script is shown in SCRIPT_DIR under the heredoc's name: a '/' would place it elsewhere.
    if (first.name.includes('/')) throw new Error(`a heredoc run as a script cannot be named ${first.name}: the name is its file's name in ${SCRIPT_DIR}`);
    const path = posix.join(SCRIPT_DIR, first.name);
    return { instruction: { ...instruction, cmdLine: [path] }, script: { path, data } };
  }

  private run(raw: InstructionOf<'run'>): StepAction {
    if (raw.flagsUsed.length > 0) {
      throw new Error(
        `the --${raw.flagsUsed[0]} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`,
      );
    }
    const { instruction, script } = this.heredocCommand(raw);
    const command = this.commandOf(instruction) ?? [];
    const env = this.config.Env ?? [];
    const buildArgs = this.args.filterAllowed(env);
    // Build args in scope prefix the recorded command (`|2 A=1 B=2 …`): they are part of what
    // the step did, so the cache tells builds with different values apart.
    const shown = buildArgs.filter((entry) => this.args.isReferencedOrNotBuiltin(entry.split('=', 1)[0]!)).sort();
    const saved = buildArgs.length > 0 ? [`|${shown.length}`, ...shown, ...command] : command;
    const probe = clone(this.config);
    probe.Cmd = saved;
    probe.ArgsEscaped = false;
    if (saved.length > 0) probe.Entrypoint = null;
    return { kind: 'run', command, env: [...env, ...buildArgs], script, createdBy: saved.join(' '), probe };
  }

  private copy(instruction: CopyInstruction): StepAction {
    const name = instruction.kind === 'add' ? 'ADD' : 'COPY';
    if (instruction.sources.length === 0 && instruction.contents.length === 0) throw new Error('no source files were specified');
    if (name === 'COPY' && instruction.sources.some(isRemoteSource)) throw new Error("source can't be a URL for COPY");
    const dest = normalizeDest(this.config.WorkingDir ?? '', instruction.dest);
    const options = `${instruction.chown ? `--chown=${instruction.chown} ` : ''}${instruction.chmod ? `--chmod=${instruction.chmod} ` : ''}`;
    return {
      kind: 'copy',
      instruction,
      dest,
      decompress: instruction.kind === 'add' && instruction.unpack !== false,
      record: (sourceHash) => this.commentRecord(`${name} ${options}${sourceHash} in ${instruction.dest} `),
    };
  }
}
