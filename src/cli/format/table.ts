/**
 * Columns aligned as the docker CLI's tabwriter does (minimum width 10, padding 3): every column
 * but the last is padded to its widest cell plus three spaces; the last is never padded.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

/** Width in terminal columns, counting code points as Go's tabwriter counts runes. */
const displayWidth = (text: string) => (ONE_UNIT_PER_CHARACTER.test(text) ? text.length : [...text].length);
/** Text without surrogate pairs, whose length already counts code points (nearly every cell). */
const ONE_UNIT_PER_CHARACTER = /^[^\ud800-\udfff]*$/;

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], minWidth = MIN_WIDTH): string {
  const all = [header, ...rows];
  const cellWidths = all.map((row) => row.map(displayWidth));
  const widths = header.map((_, column) =>
    cellWidths.reduce((widest, row) => Math.max(widest, (row[column] ?? 0) + PADDING), minWidth),
  );
  let text = '';
  for (const [r, row] of all.entries()) {
    const last = row.length - 1;
    for (const [column, cell] of row.entries()) {
      text += column === last ? cell : cell + ' '.repeat(widths[column]! - cellWidths[r]![column]!);
    }
    text += '\n';
  }
  return text;
}
