/**
 * `docker commit --change` and `docker import --change`: Dockerfile lines applied to an image
 * config without building anything, as moby's BuildFromConfig does it — the same parser and
 * the same evaluation as a build (variables substituted from the config's ENV), limited to the
 * instructions that only change the config.
 */
import { invalidParameter } from '../../common/errors.js';
import { BuildArgs } from './build-args.js';
import { parseDockerfile } from './dockerfile-parser.js';
import { parseInstructionNode } from './instruction-parser.js';
import { ShellLex } from './shell-lex.js';
import { StageEvaluator, type RunConfig } from './stage-evaluator.js';

const CHANGE_COMMANDS = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** `config` with `changes` applied; invalid-parameter errors in Docker's words. */
export function applyDockerfileChanges(config: RunConfig, changes: readonly string[]): RunConfig {
  if (changes.length === 0) return config;
  const parsed = parseDockerfile(changes.join('\n'));
  const instructions = parsed.nodes.map((node) => {
    if (!CHANGE_COMMANDS.has(node.keyword.toLowerCase())) throw invalidParameter(`${node.keyword} is not a valid change command`);
    return parseInstructionNode(node);
  });
  const evaluator = new StageEvaluator(config, new BuildArgs(), new ShellLex(parsed.escapeToken));
  for (const instruction of instructions) evaluator.step(instruction);
  return evaluator.config;
}
