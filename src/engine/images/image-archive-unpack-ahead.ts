/**
 * A load's layers unpacked while the archive streams in, instead of after it. An archive names
 * its layers only in its manifests (manifest.json, index.json), which Docker, Podman and berth
 * all write after the blobs (entries sorted by name), so when a big file arrives nobody knows
 * yet whether it is a layer. It is taken for one: as the content store writes it, the extractor
 * reads the same file as it grows (berth-untar --follow), filling a parentless layer (see
 * LayerStore.registerAhead), and hashes it (so the content store does not). The loader then
 * claims the files that are layers, putting each on its parent; the others are dropped.
 *
 * The guess holds for every archive seen (big files are layers; configs, manifests and
 * attestations are small). A wrong guess costs the unpacking and no more: bytes that are not a
 * tar fail in the extractor's first header, and the file is stored (and hashed) all the same. A
 * claimed guess that failed to unpack is unpacked again from the content store as before, which
 * then reports why (a hostile tar gets the same error either way).
 */
import { createReadStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { compressionOf, type GrowingFile } from '../../archive/index.js';
import { BerthError } from '../../common/errors.js';
import type { IngestWatcher } from '../../storage/content-store.js';
import type { Digest } from '../../storage/digest.js';
import type { AheadRegistration, Layer, LayerStore } from '../../storage/layer-store.js';

interface Guess {
  parent: { resolve(parent: Promise<string | null>): void; reject(reason: Error): void };
  unpacked: AheadRegistration['unpacked'];
  registration: Promise<Layer>;
  claimed: boolean;
}

/** A big file being stored, to be unpacked as it is written. */
export interface UnpackingFile extends IngestWatcher {
  /** The file is stored as the blob `digest`: the loader claims it by that digest. */
  stored(digest: Digest): void;
}

export class UnpackAhead {
  private readonly byDigest = new Map<Digest, Guess>();
  private readonly guesses: Guess[] = [];

  constructor(private readonly layers: LayerStore) {}

  /**
   * A watcher for a big file of the archive the content store is about to write (ContentStore.
   * ingest's `watcher`): it starts the unpacking once the file has its first bytes, unless that is
   * not possible then (see LayerStore.registerAhead). `named`: the digest the file's name gives,
   * when it gives one; a layer of that diff ID in the store already is not unpacked again.
   */
  begin(named: Digest | undefined): UnpackingFile | undefined {
    if (named !== undefined && this.layers.list().some((layer) => layer.diffId === named)) return undefined;
    const writer = new FileWriter();
    let guess: Guess | undefined;
    return {
      started: (path, head) => {
        guess = this.start(path, writer);
        if (!guess) return undefined;
        // An uncompressed tar's diff ID is the sha256 of the very bytes stored.
        if (compressionOf(head) !== 'none') return undefined;
        return guess.unpacked.then(({ diffId, size, compression }) => (compression === 'none' ? { digest: diffId, size } : undefined), () => undefined);
      },
      wrote: () => writer.wrote(),
      ended: (failure) => writer.ended(failure),
      stored: (digest) => {
        // The same bytes twice in one archive: one unpacked copy is claimed, the other dropped.
        if (guess && !this.byDigest.has(digest)) this.byDigest.set(digest, guess);
      },
    };
  }

  private start(path: string, writer: FileWriter): Guess | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined; // out of descriptors, say: the file is only stored
    }
    const diff = createReadStream(path, { fd });
    let parent!: Guess['parent'];
    const parentPromise = new Promise<string | null>((resolve, reject) => (parent = { resolve, reject }));
    const ahead = this.layers.registerAhead(diff, parentPromise, { growing: writer });
    if (!ahead) {
      diff.destroy();
      return undefined;
    }
    // The extractor has its own descriptor once started; one that never started leaves this one.
    ahead.unpacked.then(
      () => diff.destroy(),
      () => diff.destroy(),
    );
    // Settled by settle() or by the loader that claims it.
    ahead.layer.catch(() => undefined);
    const guess: Guess = { parent, unpacked: ahead.unpacked, registration: ahead.layer, claimed: false };
    this.guesses.push(guess);
    return guess;
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
      guess.parent.reject(unclaimed);
    }
    await Promise.allSettled(this.guesses.map((guess) => guess.registration));
  }
}

/**
 * The content store's side of a file the extractor follows: it says '+' after each write and 'E'
 * once the file is whole, or closes the channel without 'E' when no more will come. What
 * happened before the extractor started is said when it does.
 */
class FileWriter implements GrowingFile {
  private channel: Writable | undefined;
  private state: 'writing' | 'whole' | 'failed' = 'writing';

  follow(channel: Writable): void {
    this.channel = channel;
    // An extractor that has exited (a failed layer) hears nothing more: its channel's errors are its own.
    channel.on('error', () => undefined);
    if (this.state === 'writing') channel.write('+');
    else this.close();
  }

  wrote(): void {
    if (this.state === 'writing') this.channel?.write('+');
  }

  ended(failure?: unknown): void {
    if (this.state !== 'writing') return;
    this.state = failure === undefined ? 'whole' : 'failed';
    this.close();
  }

  private close(): void {
    if (this.state === 'whole') this.channel?.end('+E');
    else this.channel?.destroy();
  }
}
