import { constants } from 'node:os';
import { invalidParameter } from '../../common/errors.js';

const BY_NAME = constants.signals as Record<string, number>;

/** "SIGTERM", "TERM", "term" or "15" → 15, as moby's signal.ParseSignal accepts them. */
export function parseSignal(input: string | number): number {
  if (typeof input === 'number' || /^\d+$/.test(input)) {
    const number = Number(input);
    if (number > 0 && number <= 64) return number;
    throw invalidParameter(`Invalid signal: ${input}`);
  }
  const upper = input.toUpperCase();
  const number = BY_NAME[upper.startsWith('SIG') ? upper : `SIG${upper}`];
  if (number === undefined) throw invalidParameter(`Invalid signal: ${input}`);
  return number;
}
