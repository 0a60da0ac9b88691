/**
 * A plain-HTTP response whose body another process reads from the connection itself: the blob
 * extractor, so that no byte of a pulled layer goes through berthd's event loop (reading a socket
 * in Node costs a buffer per 64 KiB read, their garbage, and a copy into the extractor's pipe).
 *
 * Node has no public way to stop a socket reading: pausing a stream only stops its flow, and the
 * handle goes on reading into the stream's buffer. So the hand-off stops the libuv handle itself
 * (`_handle.readStop()`), while the socket's JS side still takes it for reading: Node starts a
 * handle reading only when it believes it is not (net's `_read`), so it never starts this one
 * again, and no byte leaves the kernel's buffer for berthd. That is done in the 'response' event,
 * which Node emits while it parses the read that holds the header's end: the body bytes of that
 * same read are the only ones berthd has, in the response's buffer, and they are handed over too.
 *
 * Only a response of known length with no transfer or content coding can be handed over (the
 * bytes on the wire are then the body's), and only over plain TCP (TLS is decrypted in berthd).
 */
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

/** The libuv handle under a net.Socket: typed only in part by Node. */
interface StreamHandle {
  fd?: number;
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

/** What the reader of a handed-over body gets. */
export interface TakenBody {
  /** The connection's descriptor: it is the reader's to read, and to read only `remaining` bytes from. */
  fd: number;
  /** The body's bytes berthd read already, which come first. */
  head: Buffer;
  /** Bytes of the body still on the connection. */
  remaining: number;
  /** The response's stall timeout, which the reader keeps in berthd's place. */
  stallTimeoutMs: number;
}

/**
 * The connection of a response stopped for a hand-off: taken (`take`) and read by another
 * process, or given back to berthd (`giveBack`), one or the other.
 */
export interface BodyHandOff {
  /**
   * The connection and the body bytes berthd read already; undefined when berthd holds what it
   * cannot pass on (the whole body already, or bytes it has not parsed): give it back then. The
   * response's stall timer is off once taken: berthd sees no more of its bytes. The caller
   * destroys the response once the reader is done.
   */
  take(): TakenBody | undefined;
  /** Berthd reads the body again, `taken`'s head first (a body taken and then not used). */
  giveBack(taken?: TakenBody): void;
}

const handOffs = new WeakMap<IncomingMessage, BodyHandOff>();

function handleOf(socket: Socket | null): StreamHandle | undefined {
  const handle = (socket as unknown as { _handle?: StreamHandle } | null)?._handle;
  return handle && typeof handle.readStop === 'function' && typeof handle.fd === 'number' && handle.fd >= 0 ? handle : undefined;
}

/** The body's length, when its bytes on the wire are all of it and nothing else. */
function plainLength(response: IncomingMessage): number | undefined {
  const { headers } = response;
  if (response.statusCode !== 200 || headers['transfer-encoding'] !== undefined) return undefined;
  const coding = headers['content-encoding'];
  if (coding !== undefined && coding !== 'identity') return undefined;
  const length = Number(headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : undefined;
}

/**
 * Stops berthd reading the connection of `response`, if its body can be handed over; the hand-off
 * is then bodyHandOff(response). Call it in the request's 'response' event, nowhere else (see
 * above). `stallTimeoutMs`: the response's stall timer, restarted when it is given back.
 */
export function stopBodyForHandOff(response: IncomingMessage, stallTimeoutMs: number): void {
  const socket = response.socket;
  const length = plainLength(response);
  if (!socket || socket instanceof TLSSocket || length === undefined) return;
  const handle = handleOf(socket);
  if (!handle?.reading) return;
  handle.readStop();
  let state: 'stopped' | 'taken' | 'done' = 'stopped';
  handOffs.set(response, {
    take() {
      if (state !== 'stopped' || response.complete || socket.readableLength > 0 || response.readableFlowing || response.destroyed) return undefined;
      state = 'taken';
      const head = (response.read() as Buffer | null) ?? Buffer.alloc(0);
      socket.setTimeout(0);
      return { fd: handle.fd!, head, remaining: length - head.length, stallTimeoutMs };
    },
    giveBack(taken) {
      if (state === 'done' || (state === 'taken') !== (taken !== undefined)) return;
      state = 'done';
      if (response.destroyed) return;
      if (taken) {
        if (taken.head.length > 0) response.unshift(taken.head);
        socket.setTimeout(stallTimeoutMs);
      }
      handle.readStart();
    },
  });
}

/** The hand-off of a response stopped by stopBodyForHandOff; undefined for any other. */
export function bodyHandOff(response: IncomingMessage): BodyHandOff | undefined {
  return handOffs.get(response);
}
