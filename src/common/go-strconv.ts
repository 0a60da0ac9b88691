/**
 * Go's strconv integer parsers, with their error texts: dockerd answers a bad number with them
 * (moby wraps the strconv error in its own message), so Berth's 400s name the same failure.
 */
import { invalidParameter } from './errors.js';

/** A decimal integer parsed as Go's strconv function `fn` does (sign only for Atoi), with its errors. */
export function goInteger(text: string, fn: 'Atoi' | 'ParseUint', min: bigint, max: bigint): number {
  const syntax = fn === 'Atoi' ? /^[+-]?\d+$/ : /^\d+$/;
  if (!syntax.test(text)) throw invalidParameter(`strconv.${fn}: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = BigInt(text);
  if (value < min || value > max) throw invalidParameter(`strconv.${fn}: parsing ${JSON.stringify(text)}: value out of range`);
  return Number(value);
}

/** Go's strconv.Atoi on a 64-bit platform. */
export function goAtoi(text: string): number {
  return goInteger(text, 'Atoi', -(2n ** 63n), 2n ** 63n - 1n);
}

/** Go's strconv.ParseBool: its six spellings of each value; undefined for anything else. */
export function goParseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
