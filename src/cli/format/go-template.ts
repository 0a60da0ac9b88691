/**
 * A small, honest subset of the Go templates `docker inspect -f` accepts: literal text, field
 * paths (`{{.State.ExitCode}}`, `{{.}}`) and `{{json .Path}}`. Anything else is rejected when
 * the template is parsed, rather than printed wrongly.
 */

type Part = { kind: 'text'; text: string } | { kind: 'field' | 'json'; path: string[] };

export class TemplateError extends Error {}

const ACTION = /{{-?\s*(.*?)\s*-?}}/g;
const PATH = /^\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?$/;

export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(ACTION)) {
    parts.push({ kind: 'text', text: template.slice(last, match.index) });
    parts.push(parseAction(match[1] ?? ''));
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push({ kind: 'text', text: template.slice(last) });
  return parts;
}

function parseAction(action: string): Part {
  const [first, second, ...rest] = action.split(/\s+/);
  if (rest.length === 0 && second === undefined && first !== undefined && PATH.test(first)) {
    return { kind: 'field', path: splitPath(first) };
  }
  if (rest.length === 0 && first === 'json' && second !== undefined && PATH.test(second)) {
    return { kind: 'json', path: splitPath(second) };
  }
  throw new TemplateError(
    `template action "{{${action}}}" is not supported: berth supports {{.Field.Path}} and {{json .Field.Path}}`,
  );
}

const splitPath = (path: string) => path.split('.').filter((segment) => segment !== '');

export function executeTemplate(parts: Part[], data: unknown): string {
  return parts
    .map((part) => {
      if (part.kind === 'text') return part.text;
      const value = lookup(data, part.path);
      return part.kind === 'json' ? JSON.stringify(value) : goPrint(value, part.path);
    })
    .join('');
}

function lookup(data: unknown, path: string[]): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !(segment in value)) {
      throw new TemplateError(`template: can't evaluate field ${segment}`);
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Prints a value as Go's text/template does for the types JSON can hold. */
function goPrint(value: unknown, path: string[]): string {
  if (value === null || value === undefined) return '<no value>';
  if (Array.isArray(value)) return `[${value.map((item) => goPrint(item, path)).join(' ')}]`;
  if (typeof value === 'object') {
    throw new TemplateError(`template: .${path.join('.')} is an object; print it with {{json .${path.join('.')}}}`);
  }
  return String(value);
}
