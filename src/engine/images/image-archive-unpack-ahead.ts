/**
 * A load's layers unpacked while the archive streams in, instead of after it. An archive names
 * its layers only in its manifests (manifest.json, index.json), which Docker, Podman and berth
 * all write after the blobs (entries sorted by name), so when a big file arrives nobody knows
 * yet whether it is a layer. It is taken for one: its bytes are teed into the extractor as they
 * are stored, filling a parentless layer (see LayerStore.registerAhead). The loader then claims
 * the files that are layers, putting each on its parent; the others are dropped.
 *
 * The guess holds for every archive seen (big files are layers; configs, manifests and
 * attestations are small). A wrong guess costs the unpacking and no more: bytes that are not a
 * tar fail in the extractor's first header, and the file is stored all the same. A claimed
 * guess that failed to unpack is unpacked again from the content store as before, which then
 * reports why (a hostile tar gets the same error either way).
 */
import { PassThrough, type Writable } from 'node:stream';
import { compressionOf } from '../../archive/index.js';
import { BerthError } from '../../common/errors.js';
import type { Digest } from '../../storage/digest.js';
import type { Layer, LayerStore } from '../../storage/layer-store.js';

/**
 * What is buffered for the extractor beyond what it has read: the archive is read no further
 * than that ahead of it (it would otherwise wait for the extractor's start at each file).
 */
const SINK_BYTES = 1024 * 1024;

interface Guess {
  sink: PassThrough;
  parent: { resolve(parent: Promise<string | null>): void; reject(reason: Error): void };
  registration: Promise<Layer>;
  claimed: boolean;
}

/** A big file being stored and unpacked on a guess. */
export interface UnpackingFile {
  /** The file's bytes, as they go on to the content store: each is written to the extractor first. */
  feed(bytes: AsyncIterable<Buffer>): AsyncIterable<Buffer>;
  /**
   * For ContentStore.ingest's `hashedElsewhere`: the sha256 and size of the bytes fed, from the
   * extractor, which hashes an uncompressed tar anyway, so that they are not hashed twice.
   * Undefined for bytes that start compressed (the extractor hashes them decompressed); the
   * promise resolves undefined when the extractor did not read them all as they are (no tar).
   */
  hashed(head: Buffer): Promise<{ digest: Digest; size: number } | undefined> | undefined;
  /** The file is stored as the blob `digest`: the loader claims it by that digest. */
  stored(digest: Digest): void;
}

export class UnpackAhead {
  private readonly byDigest = new Map<Digest, Guess>();
  private readonly guesses: Guess[] = [];

  constructor(private readonly layers: LayerStore) {}

  /**
   * Starts unpacking a big file of the archive, or returns undefined when it is not worth it or
   * not possible now (see LayerStore.registerAhead). `named`: the digest the file's name gives,
   * when it gives one; a layer of that diff ID in the store already is not unpacked again.
   */
  begin(named: Digest | undefined): UnpackingFile | undefined {
    if (named !== undefined && this.layers.list().some((layer) => layer.diffId === named)) return undefined;
    const sink = new PassThrough({ highWaterMark: SINK_BYTES });
    // Its failures reach the registration through the extractor's feed; one before the feed starts must not go unheard.
    sink.on('error', () => undefined);
    let parent!: Guess['parent'];
    const parentPromise = new Promise<string | null>((resolve, reject) => (parent = { resolve, reject }));
    const ahead = this.layers.registerAhead(sink, parentPromise);
    if (!ahead) return undefined;
    const registration = ahead.layer;
    // Settled by settle() or by the loader that claims it.
    registration.catch(() => undefined);
    // A layer that failed before its extractor read every byte (or started) reads no more of them.
    ahead.unpacked.catch(() => sink.destroy());
    const guess: Guess = { sink, parent, registration, claimed: false };
    this.guesses.push(guess);
    return {
      feed: (bytes) => tee(bytes, sink),
      // An uncompressed tar's diff ID is the sha256 of the very bytes stored.
      hashed: (head) =>
        compressionOf(head) === 'none'
          ? ahead.unpacked.then(
              ({ diffId, size, compression }) => (compression === 'none' ? { digest: diffId, size } : undefined),
              () => undefined,
            )
          : undefined,
      stored: (digest) => {
        // The same bytes twice in one archive: one unpacked copy is claimed, the other dropped.
        if (!this.byDigest.has(digest)) this.byDigest.set(digest, guess);
      },
    };
  }

  /**
   * The registration of the blob `digest` as a layer on `parent` (its chain ID once registered),
   * if it was unpacked ahead and is not claimed yet; it is retained once for the caller when it
   * resolves, as LayerStore.register's result.
   */
  claim(digest: Digest, parent: Promise<string | null>): Promise<Layer> | undefined {
    const guess = this.byDigest.get(digest);
    if (!guess || guess.claimed) return undefined;
    guess.claimed = true;
    guess.parent.resolve(parent);
    return guess.registration;
  }

  /** Drops every layer unpacked ahead and not claimed; resolves once every one has settled. */
  async settle(): Promise<void> {
    const unclaimed = new BerthError('invalid-parameter', 'not a layer of the archive');
    for (const guess of this.guesses) {
      if (guess.claimed) continue;
      guess.sink.destroy(unclaimed);
      guess.parent.reject(unclaimed);
    }
    await Promise.allSettled(this.guesses.map((guess) => guess.registration));
  }
}

/**
 * `bytes` as they come, each chunk written to `sink` first; waits for `sink` to take them, not
 * for longer than it lives (an extractor that failed stops taking them: the rest only passes).
 * `sink` ends with `bytes`, and is destroyed if they stop short (a truncated archive).
 */
async function* tee(bytes: AsyncIterable<Buffer>, sink: Writable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of bytes) {
      if (!sink.destroyed && !sink.write(chunk)) await drainedOrClosed(sink);
      yield chunk;
    }
    sink.end();
  } finally {
    if (!sink.writableEnded) sink.destroy(new Error('the file stopped short'));
  }
}

function drainedOrClosed(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done).off('close', done);
      resolve();
    };
    sink.on('drain', done).on('close', done);
  });
}
