import { isUtf8 } from 'node:buffer';
import { readdir } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * File names as the kernel keeps them: bytes, not text. A container may name a file with bytes
 * that are not UTF-8 (`touch "$(printf 'a\377b')"`); read as a UTF-8 string, such a name turns into
 * U+FFFD and no longer names the file. A BytePath holds one character per byte (latin1), so string
 * operations act on the bytes themselves: sorting is byte order (Go's, moby's), `/` is the byte
 * 0x2f for posix.dirname and startsWith, and Sets and Maps compare names exactly. The brand keeps
 * it from being mixed up with a text string: hand it to the file system as `fsPath(path)`.
 */
export type BytePath = string & { readonly __bytePath: unique symbol };

/** The name whose bytes these are. */
export const bytePath = (bytes: Buffer): BytePath => bytes.toString('latin1') as BytePath;

/** A text path (UTF-8) as bytes: how a name given by the daemon or a user is stored on disk. */
export const bytePathOf = (text: string): BytePath => bytePath(Buffer.from(text, 'utf8'));

/** The bytes of the name, for the file system and for tools that read raw names. */
export const pathBytes = (path: BytePath): Buffer => Buffer.from(path, 'latin1');

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The name as the file system functions take it: an ASCII name as the string it is (the same
 * bytes in UTF-8; no Buffer to make, which a walk of many entries feels), any other as its bytes.
 */
export const fsPath = (path: BytePath): string | Buffer => (ASCII.test(path) ? path : pathBytes(path));

/**
 * The name as text the way Go's encoding/json writes a string holding these bytes (what dockerd
 * answers for `docker diff`): valid UTF-8 decoded, each byte that does not start a valid sequence
 * replaced by one U+FFFD (utf8.DecodeRuneInString's RuneError of size 1; a cut-short sequence
 * gives one U+FFFD a byte, where TextDecoder would give one for the whole of it).
 */
export function goJsonText(path: BytePath): string {
  const bytes = pathBytes(path);
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  let start = 0;
  for (let i = 0; i < bytes.length; ) {
    const size = validSequenceAt(bytes, i);
    if (size > 0) {
      i += size;
      continue;
    }
    text += bytes.toString('utf8', start, i) + '\ufffd';
    i += 1;
    start = i;
  }
  return text + bytes.toString('utf8', start);
}

/** The length of the valid UTF-8 sequence starting at `i` (Unicode table 3-7), or 0. */
function validSequenceAt(bytes: Buffer, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf) => at < bytes.length && bytes[at]! >= low && bytes[at]! <= high;
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(i + 1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    // No overlong forms (F0 80..8F) and nothing above U+10FFFF (F4 90..).
    const [low, high] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
  }
  return 0;
}

/** The folder `path` is in ('/' for a name at the root). */
export const parentPath = (path: BytePath): BytePath => posix.dirname(path) as BytePath;

/** The entry `name` (as read from the folder, no '/' in it) of the folder `dir`. */
export const childPath = (dir: BytePath, name: BytePath): BytePath => posix.join(dir, name) as BytePath;

/** `path` (absolute) read under the folder `root`. */
export const pathUnder = (root: BytePath, path: BytePath): BytePath => (root + path) as BytePath;

/** The names of the entries of the folder `dir`, as bytes. */
export async function namesInFolder(dir: BytePath): Promise<BytePath[]> {
  return (await readdir(fsPath(dir), { encoding: 'latin1' })) as BytePath[];
}
