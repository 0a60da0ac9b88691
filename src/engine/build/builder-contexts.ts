/**
 * Build roots kept for the next build of the same context. A body equal byte for byte (and with
 * the same `dockerfile`) to the last successful build's uses that build's root again instead of
 * unpacking it: the docker CLI and `berth build` send the same bytes for an unchanged context
 * (names, modes and times kept), and unpacking through the confined extractor is most of a fully
 * cached build's time otherwise. The kept root's body stays beside it (`<root>.tar`) so that
 * context-receive.ts can compare a new body with it as it arrives, writing nothing when they
 * agree; a body that differs is spooled and unpacked by readBuildContext as usual. Only the root
 * of a build that succeeded is kept, one at a time; roots are read-only to builds (COPY reads
 * them), and one in use is removed only when its last build lets go. Everything here lives under
 * the builder's `contexts` folder with build-context.ts's prefix, so a restart sweeps it all.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readBuildContext, type BuildContext } from './build-context.js';
import { wrap } from '../../common/errors.js';
import { receiveContext } from './context-receive.js';
import type { ResolvedSources } from './copy-sources.js';

/** What COPY resolved and hashed in a root, by its sources and destination: the root never changes. */
export type ResolvedMemo = Map<string, ResolvedSources>;

interface KeptRoot {
  /** The `dockerfile` parameter it was built with. */
  dockerfile: string;
  /** The body it was unpacked from. */
  body: string;
  context: BuildContext;
  resolved: ResolvedMemo;
  users: number;
  /** Replaced by a newer root: removed once no build uses it. */
  retired: boolean;
}

/** A context for one build: `keep` after a success offers its root to the next build. */
export interface LeasedContext extends BuildContext {
  keep(): Promise<void>;
  resolved: ResolvedMemo;
}

export class BuildContexts {
  private kept: KeptRoot | undefined;

  constructor(private readonly dir: string) {}

  async open(body: Readable, dockerfile = ''): Promise<LeasedContext> {
    const spool = join(this.dir, `context-spool-${randomBytes(8).toString('hex')}.tar`);
    const kept = this.kept?.dockerfile === dockerfile ? this.kept : undefined;
    // Held while its body is compared: another build's success may replace it meanwhile.
    if (kept) kept.users++;
    let same: boolean;
    try {
      same = await receiveContext(body, kept?.body, spool);
    } catch (err) {
      if (kept) await this.release(kept);
      throw wrap(err, 'receiving the build context');
    }
    if (kept && same) return this.lease(kept);
    if (kept) await this.release(kept);
    let context: BuildContext;
    try {
      context = await readBuildContext(createReadStream(spool), { dir: this.dir, dockerfile: dockerfile || undefined });
    } catch (err) {
      await rm(spool, { force: true });
      throw err;
    }
    let entry: KeptRoot | undefined;
    let disposed = false;
    const resolved: ResolvedMemo = new Map();
    return {
      ...context,
      resolved,
      // Best effort: the build has succeeded and tagged already, and a root not kept only costs
      // the next build an unpacking (dispose removes it and the spool then).
      keep: async () => {
        if (entry || disposed) return;
        const kept = { dockerfile, body: `${context.root}.tar`, context, resolved, users: 1, retired: false };
        if (!(await rename(spool, kept.body).then(() => true, () => false))) return;
        entry = kept;
        await this.replaceKept(kept);
      },
      dispose: async () => {
        if (disposed) return;
        disposed = true;
        if (entry) await this.release(entry);
        else await Promise.all([context.dispose(), rm(spool, { force: true })]);
      },
    };
  }

  /** A build's use of the kept root, whose `users` the caller already counted. */
  private lease(kept: KeptRoot): LeasedContext {
    let released = false;
    return {
      ...kept.context,
      resolved: kept.resolved,
      keep: async () => undefined,
      dispose: async () => {
        if (released) return;
        released = true;
        await this.release(kept);
      },
    };
  }

  /** `builder prune`: the kept root and its body go (now, or when the builds using it end). */
  forgetKept(): Promise<void> {
    return this.replaceKept(undefined);
  }

  /**
   * `kept` becomes the kept root, in one step with no wait: of two builds that end together, each
   * retires the one before it, and none is left neither kept nor retired.
   */
  private async replaceKept(kept: KeptRoot | undefined): Promise<void> {
    const old = this.kept;
    this.kept = kept;
    if (!old) return;
    old.retired = true;
    if (old.users === 0) await removeKept(old).catch(() => undefined);
  }

  private async release(kept: KeptRoot): Promise<void> {
    kept.users--;
    if (kept.users === 0 && kept.retired) await removeKept(kept);
  }
}

function removeKept(kept: KeptRoot): Promise<unknown> {
  return Promise.all([kept.context.dispose(), rm(kept.body, { force: true })]);
}
