/** Small text conventions shared by the tables: IDs, truncated commands, Go-quoted strings. */

/** Docker's 12-character short ID, without any "sha256:" prefix. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Cuts to at most `maxWidth` characters, the last one being "…" when something was cut. */
export function ellipsis(text: string, maxWidth: number): string {
  const chars = [...text];
  if (chars.length <= maxWidth) return text;
  return `${chars.slice(0, maxWidth - 1).join('')}…`;
}

const GO_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

/** Go's strconv.Quote, which `docker ps` applies to COMMAND. */
export function goQuote(text: string): string {
  let quoted = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (GO_ESCAPES[char] !== undefined) quoted += GO_ESCAPES[char];
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    else quoted += char;
  }
  return `${quoted}"`;
}
