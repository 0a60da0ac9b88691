/**
 * Sizes as Docker's go-units parses them: "10m", "1.5g", "20MB", "512k". FromHumanSize counts in
 * powers of 1000 (json-file's max-size), RAMInBytes in powers of 1024 (the local driver's).
 */
const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const PREFIXES = ['k', 'm', 'g', 't', 'p'];

function parseSize(text: string, base: number): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const value = Number.parseFloat(match[1]);
  const power = match[2] ? PREFIXES.indexOf(match[2].toLowerCase()) + 1 : 0;
  return Math.trunc(value * base ** power);
}

/** undefined for text go-units refuses ("invalid size: 'x'"). */
export function fromHumanSize(text: string): number | undefined {
  return parseSize(text, 1000);
}

export function ramInBytes(text: string): number | undefined {
  return parseSize(text, 1024);
}
