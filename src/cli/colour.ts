/**
 * Colour, only where a person reads it: on a terminal, unless NO_COLOR is set to anything but the
 * empty string (no-color.org) or the terminal says it has none (TERM=dumb). Berth colours what
 * needs the eye (errors on stderr); piped and redirected output stays plain text.
 */
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

export function colourful(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return (stream as Partial<NodeJS.WriteStream>).isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** An error's text, red where colour is wanted (each line on its own, so a pager keeps it). */
export function errorText(stream: NodeJS.WritableStream, text: string): string {
  return paint(stream, RED, text);
}

function paint(stream: NodeJS.WritableStream, colour: string, text: string): string {
  if (!colourful(stream)) return text;
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${colour}${line}${RESET}`))
    .join('\n');
}
