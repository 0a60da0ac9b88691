/**
 * Columns aligned as the docker CLI's tabwriter does (minimum width 10, padding 3): every column
 * but the last is padded to its widest cell plus three spaces; the last is never padded.
 *
 * Given a terminal width (`maxWidth`, only on a terminal and only where the command truncates),
 * a table wider than the terminal is narrowed to fit, as a line that wraps is unreadable: the
 * widest column loses a character at a time, no column narrower than its title, and a cut cell
 * ends in "…". Piped output is never cut, so scripts see docker's exact text.
 */
const MIN_WIDTH = 10;
const PADDING = 3;
const ELLIPSIS = '…';

/** Width in terminal columns, counting code points as Go's tabwriter counts runes. */
const displayWidth = (text: string) => (ONE_UNIT_PER_CHARACTER.test(text) ? text.length : [...text].length);
/** Text without surrogate pairs, whose length already counts code points (nearly every cell). */
const ONE_UNIT_PER_CHARACTER = /^[^\ud800-\udfff]*$/;

export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  minWidth = MIN_WIDTH,
  maxWidth?: number,
): string {
  const all = [header, ...rows];
  const cellWidths = all.map((row) => row.map(displayWidth));
  // The text width of each column: its widest cell.
  const content = header.map((_, column) => cellWidths.reduce((widest, row) => Math.max(widest, row[column] ?? 0), 0));
  if (maxWidth !== undefined) fitColumns(content, cellWidths[0]!, minWidth, maxWidth);
  let text = '';
  for (const [r, row] of all.entries()) {
    const rowLast = row.length - 1;
    for (const [column, cell] of row.entries()) {
      const width = cellWidths[r]![column]!;
      const fitted = width > content[column]! ? cut(cell, content[column]!) : cell;
      if (column === rowLast) {
        text += fitted;
        continue;
      }
      const padded = Math.max(content[column]! + PADDING, minWidth);
      text += fitted + ' '.repeat(padded - Math.min(width, content[column]!));
    }
    text += '\n';
  }
  return text;
}

/** Narrows `content` (text widths, in place) until a line fits `maxWidth`, or nothing more may shrink. */
function fitColumns(content: number[], titleWidths: readonly number[], minWidth: number, maxWidth: number): void {
  const last = content.length - 1;
  // Below minWidth - PADDING a column still takes minWidth: narrowing it further gains nothing.
  const floors = content.map((_, column) => Math.max(titleWidths[column] ?? 0, column === last ? 1 : minWidth - PADDING));
  const lineWidth = () =>
    content.reduce((sum, width, column) => sum + (column === last ? width : Math.max(width + PADDING, minWidth)), 0);
  let excess = lineWidth() - maxWidth;
  while (excess > 0) {
    let widest = -1;
    for (const [column, width] of content.entries()) {
      if (width > floors[column]! && (widest === -1 || width > content[widest]!)) widest = column;
    }
    if (widest === -1) return;
    content[widest]!--;
    excess = lineWidth() - maxWidth;
  }
}

/** The first `width` columns of `text`, its last one an ellipsis. */
function cut(text: string, width: number): string {
  return [...text].slice(0, Math.max(0, width - 1)).join('') + ELLIPSIS;
}
