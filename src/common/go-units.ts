/**
 * Sizes as Docker's go-units parses them ("10m", "1.5g", "20MB", "512 KiB"), with its messages.
 * FromHumanSize counts in powers of 1000 (json-file's max-size), RAMInBytes in powers of 1024
 * (--memory, --shm-size, the local log driver's max-size).
 */
const PREFIXES = 'kmgtp';

/** go-units' parseSize: a number, an optional space, then "", "b", or a prefix with "", "b" or "ib". */
function parseSize(text: string, base: number): number {
  const sep = Math.max(...[...'0123456789. '].map((c) => text.lastIndexOf(c)));
  if (sep === -1) throw new Error(`invalid size: '${text}'`);
  const number = text.slice(0, text[sep] === ' ' ? sep : sep + 1);
  const suffix = text.slice(sep + 1).toLowerCase();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(number)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(number)}: invalid syntax`);
  const size = Number(number);
  if (size < 0) throw new Error(`invalid size: '${text}'`);
  if (suffix === '' || suffix === 'b') return Math.trunc(size);
  const power = PREFIXES.indexOf(suffix[0]!) + 1;
  if (suffix.length > 3 || power === 0 || (suffix.length === 2 && suffix[1] !== 'b') || (suffix.length === 3 && suffix.slice(1) !== 'ib')) {
    throw new Error(`invalid suffix: '${suffix}'`);
  }
  return Math.trunc(size * base ** power);
}

/** go-units FromHumanSize; throws with its message. */
export function fromHumanSize(text: string): number {
  return parseSize(text, 1000);
}

/** go-units RAMInBytes; throws with its message. */
export function ramInBytes(text: string): number {
  return parseSize(text, 1024);
}
