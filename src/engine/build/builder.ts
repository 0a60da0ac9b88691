/**
 * The classic builder (`POST /build`): the context unpacked into a build root, the Dockerfile
 * planned (build-plan.ts), and each stage the target needs built step by step on its base
 * image, as moby's daemon/builder/dockerfile does. Every step makes an image whose parent is
 * the previous step's (the intermediate images `images -a` lists):
 * - config-only steps an image with the new config and an `empty_layer` history entry, no
 *   container (Docker makes and removes one; nothing of it shows in the image);
 * - RUN a container of the parent image, committed as one layer (builder-run.ts);
 * - COPY/ADD/WORKDIR a layer made directly from the build root (builder-copy.ts).
 * Each step is first looked up in the step cache by its key (parent image + probe config);
 * a hit reuses the image and prints ` ---> Using cache`.
 *
 * Output goes to `emit` as Docker's JSON messages (`stream`, `aux`); a failure is thrown and
 * the caller turns it into `errorDetail`. The build root goes whatever happened.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { invalidParameter, isKind, notFound } from '../../common/errors.js';
import { shortId } from '../../common/ids.js';
import type { ContainerService } from '../containers/service.js';
import type { EventBus } from '../events/event-bus.js';
import { goArch, type ContainerConfigFields, type HistoryEntry, type ImageConfig } from '../images/image-config.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { taggedName } from '../images/image-service.js';
import type { LayerPacker } from '../../storage/layer-ingest.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { Credentials } from '../distribution/registry-auth.js';
import { BuildCache } from './builder-cache.js';
import { buildCacheRecords, pruneBuildCache, type BuildCacheRecord, type PruneOptions, type PruneResult } from './builder-prune.js';
import { copyLayerTar } from './builder-copy.js';
import { cancelled, runStep, StepRemovals, sweepStepContainers, type StepHostConfig } from './builder-run.js';
import { scratchDirBeside, sweepBuildRoots } from './build-context.js';
import { BuildContexts, type ResolvedMemo } from './builder-contexts.js';
import { instructionsOf, parseTrigger } from './instruction-parser.js';
import { copySource, planBuild, stepLine, SCRATCH, type PlannedStage } from './build-plan.js';
import { withImageRoot } from './builder-image-root.js';
import { chownNeedsNames, numericChown } from './builder-chown.js';
import { StageEvaluator, type RunConfig, type StepAction, type StepRecord } from './stage-evaluator.js';
import { isRemoteSource, resolveCopySources } from './copy-sources.js';
import { downloadSource } from './remote-source.js';
import { contentHash } from './file-hash.js';
import { stepCacheKey } from './cache-key.js';
import type { Instruction, Stage } from './instructions.js';

/** One message of the build's JSON stream, as Docker's jsonmessage. */
export type BuildMessage = { stream: string } | { aux: { ID: string } };

export interface BuildRequest {
  context: Readable;
  dockerfile?: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  /** Keep intermediate containers when false (`--rm=false`). */
  remove: boolean;
  quiet: boolean;
  networkMode: string;
  /** The resources and extra hosts of every RUN step's container (`--memory`, `--shm-size`, `--ulimit`, `--add-host`, …). */
  stepHostConfig: StepHostConfig;
  /** `--pull`: the images FROM names are pulled even when present. */
  pull: boolean;
  /** X-Registry-Config: the client's logins by registry, for what the build pulls. */
  registryCredentials: ReadonlyMap<string, Credentials>;
  signal: AbortSignal;
}

/** How ensureImage makes an image present. */
export interface EnsureImageOptions {
  /** Pull it even when present (`--pull` for a FROM). */
  pull: boolean;
  registryCredentials: ReadonlyMap<string, Credentials>;
  signal: AbortSignal;
}

export interface BuilderDeps {
  images: ImageStore;
  layers: LayerStore;
  containers: ContainerService;
  events: EventBus;
  /** The builder's folder (build roots, the cache file). */
  dir: string;
  /**
   * The image a FROM (or COPY --from) names, made present: a local image, else pulled with the
   * client's credentials for its registry; with `pull`, pulled first. Not-found when it is nowhere.
   */
  ensureImage(reference: string, options: EnsureImageOptions): Promise<Image>;
}

/** Where build roots are unpacked, under the builder's folder. */
const CONTEXTS = 'contexts';

const STEP_DONE = (id: string) => ` ---> ${shortId(id)}\n`;

export class Builder {
  private readonly contexts: BuildContexts;

  private constructor(
    private readonly deps: BuilderDeps,
    readonly cache: BuildCache,
  ) {
    this.contexts = new BuildContexts(join(deps.dir, CONTEXTS));
  }

  static async open(deps: BuilderDeps): Promise<Builder> {
    await mkdir(join(deps.dir, CONTEXTS), { recursive: true, mode: 0o700 });
    // What a killed daemon left mid-build: step containers and unpacked contexts.
    await sweepStepContainers(deps.containers);
    await sweepBuildRoots(join(deps.dir, CONTEXTS));
    return new Builder(deps, await BuildCache.open(deps.dir));
  }

  /** Builds and tags the image; returns its id. */
  async build(request: BuildRequest, emit: (message: BuildMessage) => void): Promise<string> {
    const say = (text: string) => {
      if (!request.quiet) emit({ stream: text });
    };
    const context = await this.contexts.open(request.context, request.dockerfile);
    const removals = new StepRemovals(this.deps.containers);
    try {
      const instructions = instructionsOf(context.dockerfile);
      const plan = planBuild(instructions, { target: request.target, buildArgs: request.buildArgs, labels: request.labels });
      for (const warning of plan.warnings) say(`${warning}\n`);
      plan.metaArgs.forEach((arg, i) => say(`${stepLine(i + 1, plan.totalSteps, arg.code)}\n`));
      const built = new Map<number, Image | undefined>();
      let last: Image | undefined;
      for (const planned of plan.stages) {
        const stageArgs = plan.args.forStage();
        const build = { builder: this, request, total: plan.totalSteps, say, root: context.root, built, stages: instructions.stages, resolved: context.resolved, removals };
        last = await new StageBuild(build, planned).run(stageArgs, plan.lex);
        built.set(planned.stage.index, last);
        plan.args.mergeReferenced(stageArgs);
      }
      if (!last) throw invalidParameter('No image was generated. Is your Dockerfile empty?');
      const unused = plan.args.unusedWarning();
      if (unused) say(`${unused}\n`);
      await this.cache.flush();
      emit({ aux: { ID: last.id } });
      say(`Successfully built ${shortId(last.id)}\n`);
      for (const tag of request.tags) {
        const name = taggedName(tag);
        await this.deps.images.tag(last.id, name);
        this.deps.events.publish('image', 'tag', last.id, { ...(last.config.config?.Labels ?? {}), name });
        say(`Successfully tagged ${name}\n`);
      }
      await context.keep();
      return last.id;
    } finally {
      await removals.settle();
      await context.dispose();
    }
  }

  /** `docker builder prune` (POST /build/prune). */
  async prune(options: PruneOptions): Promise<PruneResult> {
    const { images, containers } = this.deps;
    await this.contexts.forgetKept();
    return pruneBuildCache(this.cache, images, (id) => containers.usersOfImage(id), options);
  }

  /** /system/df's BuildCache (for the disk-usage service's provider). */
  dfEntries(): BuildCacheRecord[] {
    const { images, containers } = this.deps;
    return buildCacheRecords(this.cache, images, (id) => containers.usersOfImage(id));
  }

  /** @internal the stage builds' access to the engine. */
  get engine(): BuilderDeps {
    return this.deps;
  }
}

/** What the stages of one build share. */
interface SharedBuild {
  builder: Builder;
  request: BuildRequest;
  total: number;
  say: (text: string) => void;
  /** The build root (the unpacked context). */
  root: string;
  /** The images of the stages built so far, by stage index (undefined: scratch with no step). */
  built: ReadonlyMap<number, Image | undefined>;
  stages: readonly Stage[];
  /** COPY sources already resolved in the build root. */
  resolved: ResolvedMemo;
  /** The step containers being removed. */
  removals: StepRemovals;
}

/** One stage: its base, then its steps on the image the previous step made. */
class StageBuild {
  private image: Image | undefined;
  private evaluator!: StageEvaluator;
  private readonly builder: Builder;
  private readonly request: BuildRequest;
  private readonly total: number;
  private readonly say: (text: string) => void;
  private readonly root: string;
  private readonly built: ReadonlyMap<number, Image | undefined>;

  constructor(
    private readonly shared: SharedBuild,
    private readonly planned: PlannedStage,
  ) {
    ({ builder: this.builder, request: this.request, total: this.total, say: this.say, root: this.root, built: this.built } = shared);
  }

  async run(args: StageEvaluator['args'], lex: ConstructorParameters<typeof StageEvaluator>[2]): Promise<Image | undefined> {
    const { stage, firstStep } = this.planned;
    this.say(`${stepLine(firstStep, this.total, stage.code)}\n`);
    this.image = await this.baseImage();
    this.say(this.image ? STEP_DONE(this.image.id) : ' ---> \n');
    this.evaluator = StageEvaluator.beginStage(this.image?.config.config as RunConfig | undefined, args, lex);
    if (this.evaluator.triggers.length > 0) {
      this.say(`# Executing ${this.evaluator.triggers.length} build trigger${this.evaluator.triggers.length > 1 ? 's' : ''}\n`);
      for (const trigger of this.evaluator.triggers) await this.step(parseTrigger(trigger));
    }
    for (const [i, instruction] of stage.commands.entries()) {
      this.say(`${stepLine(firstStep + 1 + i, this.total, instruction.code)}\n`);
      await this.step(instruction);
    }
    return this.image;
  }

  private pulling(pull: boolean): EnsureImageOptions {
    return { pull, registryCredentials: this.request.registryCredentials, signal: this.request.signal };
  }

  private async baseImage(): Promise<Image | undefined> {
    const base = this.planned.base;
    if (base.kind === 'scratch') return undefined;
    if (base.kind === 'stage') return this.built.get(base.index);
    if (base.reference === SCRATCH) return undefined;
    try {
      return await this.builder.engine.ensureImage(base.reference, this.pulling(this.request.pull));
    } catch (err) {
      if (isKind(err, 'not-found')) throw notFound(`pull access denied for ${base.reference}, repository does not exist or may require 'docker login'`, err);
      throw err;
    }
  }

  private async step(instruction: Instruction): Promise<void> {
    if (this.request.signal.aborted) throw cancelled();
    const action = this.evaluator.step(instruction);
    if (action.kind === 'config' && action.note) this.say(`${action.note}\n`);
    if (action.kind === 'copy') return this.copy(action);
    const made = await this.cached(action, () => this.carryOut(action));
    this.image = made;
  }

  private async copy(action: Extract<StepAction, { kind: 'copy' }>): Promise<void> {
    const { instruction } = action;
    const from = instruction.kind === 'copy' ? instruction.from : '';
    if (from === '') return this.copyFrom(this.root, true, action);
    const source = copySource(this.shared.stages, this.planned.stage.index, from);
    const image = source.kind === 'stage' ? this.built.get(source.index) : await this.builder.engine.ensureImage(source.reference, this.pulling(false));
    if (!image) throw invalidParameter(`COPY --from=${from}: that stage made no files (it is FROM scratch with no step)`);
    return withImageRoot(this.builder.engine.layers, image, (root) => this.copyFrom(root, false, action));
  }

  private async copyFrom(root: string, fromContext: boolean, action: Extract<StepAction, { kind: 'copy' }>): Promise<void> {
    const { instruction } = action;
    const downloads = instruction.kind === 'add' && instruction.sources.some(isRemoteSource) ? await scratchDirBeside(this.root) : undefined;
    try {
      await this.copySources(root, fromContext, action, downloads);
    } finally {
      if (downloads) await rm(downloads, { recursive: true, force: true });
    }
  }

  /** copyFrom's step; `downloads`: the scratch directory ADD fetches its URLs into. */
  private async copySources(root: string, fromContext: boolean, action: Extract<StepAction, { kind: 'copy' }>, downloads: string | undefined): Promise<void> {
    const { instruction } = action;
    const { signal } = this.request;
    const options = {
      command: instruction.kind === 'add' ? ('ADD' as const) : ('COPY' as const),
      dest: action.dest,
      fromContext,
      extraHashes: instruction.contents.map((content) => contentHash(content.path, content.data)),
      download: downloads === undefined ? undefined : (url: string) => downloadSource(url, downloads, signal),
    };
    // The build root is the same for every build of the same context bytes: its sources are
    // resolved once. What a URL serves may change from one build to the next.
    const memoKey = JSON.stringify([instruction.sources, options]);
    const memo = fromContext && downloads === undefined ? this.shared.resolved : undefined;
    const resolved = memo?.get(memoKey) ?? (await resolveCopySources(root, instruction.sources, options));
    memo?.set(memoKey, resolved);
    const record = action.record(resolved.hash);
    const chown = await this.numericChown(instruction.chown);
    this.image = await this.cached(record, () =>
      this.commitLayer(record, copyLayerTar(root, resolved.sources, action.dest, {
        chown,
        chmod: instruction.chmod,
        unpack: action.decompress,
        contents: instruction.contents,
      })),
    );
  }

  /** `--chown` in ids; names are looked up in the parent image's passwd and group files. */
  private async numericChown(chown: string): Promise<string> {
    if (!chownNeedsNames(chown)) return chown;
    const image = this.image;
    if (!image) return numericChown(undefined, chown);
    return withImageRoot(this.builder.engine.layers, image, (root) => numericChown(root, chown));
  }

  private async carryOut(action: Exclude<StepAction, { kind: 'copy' }>): Promise<Image> {
    switch (action.kind) {
      case 'config':
        return this.commitConfig(action);
      case 'workdir':
        return this.commitLayer(action, copyLayerTar(this.root, [], `${action.path}/`, { chown: '', chmod: '' }));
      case 'run':
        return this.runCommand(action);
    }
  }

  /** The step's image from the cache (` ---> Using cache`), or made by `make` and remembered. */
  private async cached(record: StepRecord, make: () => Promise<Image>): Promise<Image> {
    const { images } = this.builder.engine;
    const key = stepCacheKey(this.image?.id ?? '', record.probe, '', record.script?.data);
    const hit = this.request.noCache ? undefined : this.builder.cache.lookup(key, (id) => images.byId(id) !== undefined);
    if (hit) {
      this.say(' ---> Using cache\n');
      this.say(STEP_DONE(hit));
      return images.byId(hit)!;
    }
    const image = await make();
    // Not waited for here: the build flushes the cache before it reports success.
    this.builder.cache.remember(key, image.id).catch(() => undefined);
    this.say(STEP_DONE(image.id));
    return image;
  }

  private async runCommand(action: Extract<StepAction, { kind: 'run' }>): Promise<Image> {
    if (!action.script) return this.runContainer(action, this.request.stepHostConfig);
    // The script is bound read-only at its place under the container's /dev (a tmpfs), so it is
    // run as a file, as BuildKit runs it, and never lands in the step's layer.
    const scratch = await scratchDirBeside(this.root);
    try {
      const file = join(scratch, 'script');
      await writeFile(file, action.script.data, { mode: 0o755 });
      const { ShmSize, other } = this.request.stepHostConfig;
      const mount = { Type: 'bind', Source: file, Target: action.script.path, ReadOnly: true };
      const mounts = Array.isArray(other.Mounts) ? other.Mounts : [];
      return await this.runContainer(action, { ShmSize, other: { ...other, Mounts: [...mounts, mount] } });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private runContainer(action: Extract<StepAction, { kind: 'run' }>, hostConfig: StepHostConfig): Promise<Image> {
    if (!this.image) throw invalidParameter('RUN needs a base image with a shell: this stage starts FROM scratch and has no files yet');
    const { containers, layers } = this.builder.engine;
    return runStep(containers, {
      parent: this.image,
      command: action.command,
      env: action.env,
      config: this.evaluator.config,
      networkMode: this.request.networkMode,
      hostConfig,
      keep: !this.request.remove,
      removals: this.shared.removals,
      signal: this.request.signal,
      started: (id) => this.say(` ---> Running in ${shortId(id)}\n`),
      output: (chunk) => this.say(chunk.toString('utf8')),
      commit: async (id) => {
        const image = await this.commitLayer(action, (blobPath) => layers.containerLayerDiffToFile(id, blobPath), id);
        if (this.request.remove) this.say(` ---> Removed intermediate container ${shortId(id)}\n`);
        return image;
      },
    });
  }

  private imageConfig(record: StepRecord, layer: { diffId?: string; empty: boolean }, container?: string): ImageConfig {
    const parent = this.image?.config;
    const created = new Date().toISOString();
    const author = this.evaluator.maintainer;
    const history: HistoryEntry = { created, ...(author ? { author } : {}), created_by: record.createdBy, ...(layer.empty ? { empty_layer: true } : {}) };
    const { Shell, ArgsEscaped, ...fields } = this.evaluator.config;
    const config: ContainerConfigFields & { Shell?: string[] | null; ArgsEscaped?: boolean } = { ...fields };
    if (Shell && Shell.length > 0) config.Shell = Shell;
    if (ArgsEscaped) config.ArgsEscaped = ArgsEscaped;
    const diffIds = parent?.rootfs.diff_ids ?? [];
    return {
      architecture: parent?.architecture ?? goArch(),
      os: parent?.os ?? 'linux',
      created,
      ...(author ? { author } : {}),
      config: config as ContainerConfigFields,
      ...(container ? { container } : {}),
      rootfs: { type: 'layers', diff_ids: layer.empty || !layer.diffId ? [...diffIds] : [...diffIds, layer.diffId] },
      history: [...(parent?.history ?? []), history],
    };
  }

  private commitConfig(record: StepRecord): Promise<Image> {
    const { images } = this.builder.engine;
    return images.addImage(this.imageConfig(record, { empty: true }), this.image?.layerBlobs ?? [], this.image?.id);
  }

  private commitLayer(record: StepRecord, diff: Readable | LayerPacker, container?: string): Promise<Image> {
    return this.builder.engine.images.addLayeredImage(diff, this.image, ({ diffId, empty }) => this.imageConfig(record, { diffId, empty }, container));
  }
}
