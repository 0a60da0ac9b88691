/**
 * Columns aligned as the docker CLI's tabwriter does (minimum width 10, padding 3): every column
 * but the last is padded to its widest cell plus three spaces; the last is never padded.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

/** Width in terminal columns, counting code points as Go's tabwriter counts runes. */
const displayWidth = (text: string) => [...text].length;

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(MIN_WIDTH, ...all.map((row) => displayWidth(row[column] ?? '') + PADDING)),
  );
  const lines = all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat(widths[column]! - displayWidth(cell))))
      .join(''),
  );
  return lines.map((line) => `${line}\n`).join('');
}
