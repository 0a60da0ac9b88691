/**
 * What the builder (and `commit --change`) uses of the Dockerfile front end: read a context,
 * parse and plan, evaluate each stage's steps, hash COPY sources, key the cache.
 */
export { readBuildContext, sweepBuildRoots, dockerfileEntryName, DEFAULT_DOCKERFILE, type BuildContext, type ContextOptions } from './build-context.js';
export { parseDockerfile, warningLines, type DockerfileNode, type ParsedDockerfile } from './dockerfile-parser.js';
export { parseInstructions, instructionsOf, parseTrigger } from './instruction-parser.js';
export type { DockerfileInstructions, Instruction, InstructionOf, Stage } from './instructions.js';
export { BuildArgs, BUILTIN_ARGS, type BuildArgOptions } from './build-args.js';
export { planBuild, stepLine, copySource, SCRATCH, type BuildPlan, type PlannedStage, type PlanOptions, type StageBase } from './build-plan.js';
export { StageEvaluator, DEFAULT_SHELL, SCRIPT_DIR, type RunConfig, type StepAction, type StepRecord, type CopyInstruction } from './stage-evaluator.js';
export { resolveCopySources, type CopySource, type ResolvedSources } from './copy-sources.js';
export { contentHash, pathHash, sourcesHash } from './file-hash.js';
export { stepCacheKey } from './cache-key.js';
export { PatternMatcher, readDockerignore } from './dockerignore.js';
export { goMatch, containsWildcards } from './go-match.js';
export { applyDockerfileChanges } from './config-changes.js';
export { checkPlatform, hostPlatform } from './platform.js';
