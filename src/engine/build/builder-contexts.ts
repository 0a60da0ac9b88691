/**
 * Build roots kept for the next build of the same context. The request body is spooled to a
 * file while its sha256 is taken; a body with the same digest (and the same `dockerfile`) as
 * the last successful build's reuses that build's root instead of unpacking it again — the
 * docker CLI sends the same bytes for an unchanged context (modes, times and names kept), and
 * unpacking through the confined extractor is most of a fully cached build's time. Otherwise
 * the spool is unpacked by readBuildContext as usual. Only the root of a build that succeeded
 * is kept, one at a time; roots are read-only to builds (COPY reads them), and one in use is
 * removed only when its last build lets go. Everything here lives under the builder's
 * `contexts` folder with build-context.ts's prefix, so a restart sweeps it all.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readBuildContext, type BuildContext } from './build-context.js';
import type { ResolvedSources } from './copy-sources.js';

const SPOOL_BATCH = 1024 * 1024;

/** What COPY resolved and hashed in a root, by its sources and destination: the root never changes. */
export type ResolvedMemo = Map<string, ResolvedSources>;

interface KeptRoot {
  key: string;
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

/**
 * The body's chunks hashed, and handed on in batches of SPOOL_BATCH bytes: the docker CLI sends
 * a context in chunks of ~32 KiB, and writing each one (~480 writes for 10 MiB) cost twice the
 * CPU of hashing and writing the same bytes a megabyte at a time.
 */
function hashedBatches(hash: Hash): Transform {
  let batch: Buffer[] = [];
  let size = 0;
  const take = () => {
    const joined = Buffer.concat(batch, size);
    batch = [];
    size = 0;
    return joined;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      batch.push(chunk);
      size += chunk.length;
      done(null, size >= SPOOL_BATCH ? take() : undefined);
    },
    flush(done) {
      done(null, size > 0 ? take() : undefined);
    },
  });
}

export class BuildContexts {
  private kept: KeptRoot | undefined;

  constructor(private readonly dir: string) {}

  async open(body: Readable, dockerfile: string | undefined): Promise<LeasedContext> {
    const spool = join(this.dir, `context-spool-${randomBytes(8).toString('hex')}.tar`);
    try {
      const hash = createHash('sha256');
      await pipeline(body, hashedBatches(hash), createWriteStream(spool, { mode: 0o600 }));
      const key = `${hash.digest('hex')}\0${dockerfile ?? ''}`;
      const kept = this.kept;
      if (kept && kept.key === key && !kept.retired) return this.lease(kept);
      const context = await readBuildContext(createReadStream(spool), { dir: this.dir, dockerfile });
      let entry: KeptRoot | undefined;
      let disposed = false;
      const resolved: ResolvedMemo = new Map();
      return {
        ...context,
        resolved,
        keep: async () => {
          if (entry || disposed) return;
          await this.retire();
          entry = { key, context, resolved, users: 1, retired: false };
          this.kept = entry;
        },
        dispose: async () => {
          if (disposed) return;
          disposed = true;
          if (entry) await this.release(entry);
          else await context.dispose();
        },
      };
    } finally {
      await rm(spool, { force: true });
    }
  }

  private lease(kept: KeptRoot): LeasedContext {
    kept.users++;
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

  private async retire(): Promise<void> {
    const old = this.kept;
    if (!old) return;
    old.retired = true;
    this.kept = undefined;
    if (old.users === 0) await old.context.dispose();
  }

  private async release(kept: KeptRoot): Promise<void> {
    kept.users--;
    if (kept.users === 0 && kept.retired) await kept.context.dispose();
  }
}
