/** tar-stream's header codec (its pack and extract use it; @types/tar-stream leaves it out). */
declare module 'tar-stream/headers.js' {
  import type { Headers } from 'tar-stream';

  /** The 512-byte ustar header, or null when a name or link does not fit (then a PAX header is needed). */
  export function encode(header: Headers | (Omit<Headers, 'type'> & { type: 'pax-header' })): Buffer | null;
  /** The body of a PAX extended header carrying `path` and `linkpath`. */
  export function encodePax(header: { name?: string; linkname?: string | null }): Buffer;
}
