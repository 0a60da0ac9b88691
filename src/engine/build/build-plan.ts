/**
 * The stage graph of a Dockerfile and the steps a build will take: which stage is the target
 * (`--target`, else the last), what each stage starts from (scratch, an image, an earlier stage,
 * after substituting the ARGs declared before the first FROM), which earlier stages it needs
 * (its base, `COPY --from`), and so which stages are built at all — only those the target
 * needs, in Dockerfile order — and the `Step n/m : …` numbering of their instructions.
 *
 * The ARGs before FROM are evaluated here (Docker's processMetaArg); the stages' instructions
 * are evaluated by the builder with a StageEvaluator as it reaches them.
 */
import { invalidParameter } from '../../common/errors.js';
import { BuildArgs, type BuildArgOptions } from './build-args.js';
import { expandInstruction } from './expansion.js';
import { checkPlatform } from './platform.js';
import type { DockerfileInstructions, Instruction, InstructionOf, Stage } from './instructions.js';
import { envFromList, ShellLex } from './shell-lex.js';

export const SCRATCH = 'scratch';

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number }
  | { kind: 'image'; reference: string };

export interface PlannedStage {
  stage: Stage;
  base: StageBase;
  /** `--platform` after substitution, normalised (`linux/amd64`); '' when not given. */
  platform: string;
  /** Indexes of the earlier stages it uses (base and `COPY --from`). */
  needs: number[];
  /** The step number of its FROM line; its instructions follow. */
  firstStep: number;
}

export interface BuildPlan {
  /** The ARGs before the first FROM: steps 1..metaArgs.length. */
  metaArgs: Array<InstructionOf<'arg'>>;
  /** The stages to build, in order. */
  stages: PlannedStage[];
  totalSteps: number;
  /** Build args after the meta ARGs: each stage starts from `args.forStage()`. */
  args: BuildArgs;
  lex: ShellLex;
  warnings: string[];
}

export interface PlanOptions {
  target?: string;
  buildArgs?: BuildArgOptions;
  /** `--label`: added to the target stage as LABEL steps, sorted by key, never expanded. */
  labels?: Readonly<Record<string, string>>;
}

/** `Step 2/7 : RUN make`, as the classic builder prints it. */
export const stepLine = (step: number, total: number, code: string) => `Step ${step}/${total} : ${code}`;

/** Where `COPY --from=ref` reads: an earlier stage's index, or an image reference. */
export function copySource(stages: readonly Stage[], current: number, ref: string): { kind: 'stage'; index: number } | { kind: 'image'; reference: string } {
  const named = stages.findIndex((stage, i) => i < current && stage.name !== '' && stage.name === ref.toLowerCase());
  if (named !== -1) return { kind: 'stage', index: named };
  if (/^-?\d+$/.test(ref)) {
    const index = Number(ref);
    if (index === current) throw invalidParameter(`invalid from flag value ${ref}: refers to current build stage`);
    if (index < 0 || index > current) throw invalidParameter(`invalid from flag value ${ref}: index out of bounds`);
    return { kind: 'stage', index };
  }
  return { kind: 'image', reference: ref };
}

/** Evaluates the meta ARGs, resolves every stage's base, and keeps the stages the target needs. */
export function planBuild(dockerfile: DockerfileInstructions, options: PlanOptions = {}): BuildPlan {
  const lex = new ShellLex(dockerfile.escapeToken);
  const args = new BuildArgs(options.buildArgs ?? {});
  for (const meta of dockerfile.metaArgs) {
    const env = envFromList([...args.allowedValues()].map(([key, value]) => `${key}=${value}`));
    const expanded = expandInstruction(meta, lex, env) as InstructionOf<'arg'>;
    for (const { key, value } of expanded.args) {
      args.addArg(key, value);
      args.addMetaArg(key, value);
    }
  }
  if (dockerfile.stages.length === 0) throw invalidParameter('dockerfile contains no stages to build');

  const targetIndex = options.target ? dockerfile.stages.findIndex((stage) => stage.name === options.target!.toLowerCase()) : dockerfile.stages.length - 1;
  if (targetIndex === -1) throw invalidParameter(`target stage ${JSON.stringify(options.target)} could not be found`);
  const candidates = dockerfile.stages.slice(0, targetIndex + 1);
  const seen = new Set<string>();
  for (const stage of candidates) {
    if (stage.name !== '' && seen.has(stage.name)) throw invalidParameter(`${stage.name} stage name already used`);
    if (stage.name !== '') seen.add(stage.name);
  }

  const metaEnv = envFromList([...args.metaValues()].map(([key, value]) => `${key}=${value}`));
  const resolved = candidates.map((stage) => resolveStage(candidates, stage, lex, metaEnv));
  const target = resolved[targetIndex]!;
  if (options.labels) target.stage = { ...target.stage, commands: [...target.stage.commands, ...labelSteps(options.labels)] };

  const needed = new Set<number>();
  const visit = (index: number) => {
    if (needed.has(index)) return;
    needed.add(index);
    for (const dependency of resolved[index]!.needs) visit(dependency);
  };
  visit(targetIndex);

  let step = dockerfile.metaArgs.length + 1;
  const stages: PlannedStage[] = [];
  for (const planned of resolved) {
    if (!needed.has(planned.stage.index)) continue;
    planned.firstStep = step;
    step += 1 + planned.stage.commands.length;
    stages.push(planned);
  }
  return { metaArgs: dockerfile.metaArgs, stages, totalSteps: step - 1, args, lex, warnings: dockerfile.warnings };
}

function resolveStage(stages: readonly Stage[], stage: Stage, lex: ShellLex, metaEnv: ReturnType<typeof envFromList>): PlannedStage {
  const baseName = lex.processWord(stage.baseName, metaEnv);
  if (baseName === '') throw invalidParameter(`base name (${stage.baseName}) should not be blank`);
  let platform = '';
  try {
    platform = lex.processWord(stage.platform, metaEnv);
  } catch (err) {
    throw invalidParameter(`failed to process arguments for platform ${stage.platform}: ${(err as Error).message}`);
  }
  if (platform !== '') platform = checkPlatform(platform);
  const named = stages.findIndex((other) => other.index < stage.index && other.name !== '' && other.name === baseName.toLowerCase());
  const base: StageBase = named !== -1 ? { kind: 'stage', index: named } : baseName === SCRATCH ? { kind: 'scratch' } : { kind: 'image', reference: baseName };
  const needs = new Set<number>();
  if (base.kind === 'stage') needs.add(base.index);
  for (const command of stage.commands) {
    if (command.kind !== 'copy' || command.from === '') continue;
    const source = copySource(stages, stage.index, command.from);
    if (source.kind === 'stage') needs.add(source.index);
  }
  return { stage, base, platform, needs: [...needs].sort((a, b) => a - b), firstStep: 0 };
}

function labelSteps(labels: Readonly<Record<string, string>>): Instruction[] {
  return Object.keys(labels)
    .sort()
    .map((key) => ({
      kind: 'label',
      labels: [{ key, value: labels[key]! }],
      noExpand: true,
      code: `LABEL ${key}=${labels[key]}`,
      location: { startLine: 0, endLine: 0 },
    }));
}
