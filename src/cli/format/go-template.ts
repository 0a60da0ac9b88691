/**
 * The part of Go's text/template that `--format` users write, with the functions the docker CLI
 * adds (json, join, split, upper, lower, title, truncate, pad) and Go's own (printf, index, len,
 * not, and, or, eq, ne, lt, le, gt, ge, print): text, `{{.Field.Path}}`, `{{.}}`, `{{$}}`,
 * pipelines (`{{.Names | upper}}`), parenthesised calls, string and number literals, `if`/`else
 * if`/`else`, `range` (with `else`), `with`, `{{- … -}}` trimming and comments. Anything else
 * (variables, `define`/`template`, `block`) is refused when the template is parsed, naming the
 * construct, rather than printed wrongly.
 */

export class TemplateError extends Error {}

type Operand =
  | { kind: 'field'; base: 'dot' | 'root'; path: string[] }
  | { kind: 'literal'; value: unknown }
  | { kind: 'function'; name: string }
  | { kind: 'pipeline'; pipeline: Pipeline };
/** A command is a function (or a value) with its arguments; a pipeline feeds each into the next. */
type Command = Operand[];
type Pipeline = Command[];

type BlockNode = { kind: 'if' | 'with' | 'range'; pipeline: Pipeline; body: Node[]; otherwise: Node[] };
type Node = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Pipeline } | BlockNode;

export type Template = Node[];

// --- parsing

const ACTION = /{{(-\s)?([\s\S]*?)(\s-)?}}/g;

export function parseTemplate(template: string): Template {
  const tokens: ({ kind: 'text'; text: string } | { kind: 'action'; source: string })[] = [];
  let last = 0;
  let trimNext = false;
  for (const match of template.matchAll(ACTION)) {
    let text = template.slice(last, match.index);
    if (trimNext) text = text.trimStart();
    if (match[1]) text = text.trimEnd();
    tokens.push({ kind: 'text', text });
    tokens.push({ kind: 'action', source: (match[2] ?? '').trim() });
    trimNext = Boolean(match[3]);
    last = (match.index ?? 0) + match[0].length;
  }
  tokens.push({ kind: 'text', text: trimNext ? template.slice(last).trimStart() : template.slice(last) });

  let at = 0;
  /** Parses nodes up to one of `stops` (an action keyword); returns the nodes and the stop met. */
  const parseList = (stops: readonly string[]): { nodes: Node[]; stop?: { keyword: string; rest: string } } => {
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const token = tokens[at++]!;
      if (token.kind === 'text') {
        if (token.text !== '') nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const source = token.source;
      if (source.startsWith('/*')) continue; // a comment
      const [keyword = '', rest = ''] = splitKeyword(source);
      if (stops.includes(keyword)) return { nodes, stop: { keyword, rest } };
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        nodes.push(parseBlock(keyword, rest));
      } else if (['end', 'else', 'define', 'template', 'block', 'break', 'continue'].includes(keyword)) {
        throw new TemplateError(`template: {{${source}}} is not supported here`);
      } else {
        nodes.push({ kind: 'action', pipeline: parsePipeline(source) });
      }
    }
    if (stops.length > 0) throw new TemplateError(`template: unexpected end of template: missing {{end}}`);
    return { nodes };
  };
  const parseBlock = (keyword: 'if' | 'with' | 'range', rest: string): Node => {
    const pipeline = parsePipeline(rest);
    const body = parseList(['else', 'end']);
    let otherwise: Node[] = [];
    if (body.stop?.keyword === 'else') {
      const elseRest = body.stop.rest.trim();
      if (keyword === 'if' && elseRest.startsWith('if ')) {
        // `{{else if …}}` is an if nested in the else branch that shares the same {{end}}.
        otherwise = [parseBlock('if', elseRest.slice(3))];
      } else if (elseRest !== '') {
        throw new TemplateError(`template: {{else ${elseRest}}} is not supported`);
      } else {
        otherwise = parseList(['end']).nodes;
      }
    }
    return { kind: keyword, pipeline, body: body.nodes, otherwise };
  };
  return parseList([]).nodes;
}

function splitKeyword(source: string): [string, string] {
  const match = /^([a-z]+)\b\s*([\s\S]*)$/.exec(source);
  return match ? [match[1]!, match[2]!] : ['', source];
}

const TOKEN = /\s*(?:(\()|(\))|(\|)|("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|(\$?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.|\$)|([A-Za-z_][A-Za-z0-9_]*)|(\S))/y;

function parsePipeline(source: string): Pipeline {
  if (source.trim() === '') throw new TemplateError('template: missing value for command');
  if (/^\$[A-Za-z_]*\s*:?=/.test(source.trim()) || /\$[A-Za-z_]\w*/.test(source)) {
    throw new TemplateError(`template: variables are not supported by berth ({{${source}}})`);
  }
  TOKEN.lastIndex = 0;
  const tokens: string[] = [];
  for (let match = TOKEN.exec(source); match && match[0].trim() !== ''; match = TOKEN.exec(source)) {
    if (match[9]) throw new TemplateError(`template: unexpected "${match[9]}" in {{${source}}}`);
    tokens.push(match[0].trim());
  }
  let at = 0;
  const pipeline = (closing: boolean): Pipeline => {
    const commands: Pipeline = [[]];
    while (at < tokens.length) {
      const token = tokens[at++]!;
      if (token === ')') {
        if (!closing) throw new TemplateError(`template: unexpected ")" in {{${source}}}`);
        return finish(commands);
      }
      if (token === '|') commands.push([]);
      else if (token === '(') commands.at(-1)!.push({ kind: 'pipeline', pipeline: pipeline(true) });
      else commands.at(-1)!.push(operand(token));
    }
    if (closing) throw new TemplateError(`template: unclosed "(" in {{${source}}}`);
    return finish(commands);
  };
  const finish = (commands: Pipeline) => {
    if (commands.some((command) => command.length === 0)) throw new TemplateError(`template: missing command in {{${source}}}`);
    return commands;
  };
  return pipeline(false);
}

function operand(token: string): Operand {
  if (token.startsWith('"')) return { kind: 'literal', value: JSON.parse(token) };
  if (token.startsWith('`')) return { kind: 'literal', value: token.slice(1, -1) };
  if (/^-?\d/.test(token)) return { kind: 'literal', value: Number(token) };
  if (token === 'true' || token === 'false') return { kind: 'literal', value: token === 'true' };
  if (token === 'nil') return { kind: 'literal', value: null };
  if (token.startsWith('.') || token.startsWith('$')) {
    const base = token.startsWith('$') ? 'root' : 'dot';
    return { kind: 'field', base, path: token.replace(/^\$/, '').split('.').filter(Boolean) };
  }
  if (!(token in FUNCTIONS)) throw new TemplateError(`template: function "${token}" not defined`);
  return { kind: 'function', name: token };
}

// --- execution

export function executeTemplate(template: Template, data: unknown): string {
  return run(template, data, data);
}

function run(nodes: Node[], dot: unknown, root: unknown): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') {
      out += node.text;
    } else if (node.kind === 'action') {
      out += goPrint(evaluate(node.pipeline, dot, root));
    } else {
      const value = evaluate(node.pipeline, dot, root);
      if (node.kind === 'if') out += run(truthy(value) ? node.body : node.otherwise, dot, root);
      else if (node.kind === 'with') out += truthy(value) ? run(node.body, value, root) : run(node.otherwise, dot, root);
      else out += rangeOver(node, value, root);
    }
  }
  return out;
}

function rangeOver(node: BlockNode, value: unknown, root: unknown): string {
  let items: unknown[];
  if (value === null || value === undefined) items = [];
  else if (Array.isArray(value)) items = value;
  else if (typeof value === 'object') items = sortedKeys(value as object).map((key) => (value as Record<string, unknown>)[key]);
  else if (typeof value === 'number' && Number.isInteger(value)) items = Array.from({ length: value }, (_, i) => i);
  else throw new TemplateError(`template: range can't iterate over ${JSON.stringify(value)}`);
  return items.length === 0 ? run(node.otherwise, value, root) : items.map((item) => run(node.body, item, root)).join('');
}

function evaluate(pipeline: Pipeline, dot: unknown, root: unknown): unknown {
  let piped: { value: unknown } | undefined;
  for (const command of pipeline) {
    const [head, ...args] = command;
    const values = args.map((arg) => value(arg, dot, root));
    if (piped) values.push(piped.value);
    if (head!.kind === 'function') {
      piped = { value: FUNCTIONS[head!.name]!(...values) };
    } else {
      if (values.length > 0) throw new TemplateError(`template: can't give arguments to a value that is not a function`);
      piped = { value: value(head!, dot, root) };
    }
  }
  return piped?.value;
}

function value(operand: Operand, dot: unknown, root: unknown): unknown {
  switch (operand.kind) {
    case 'literal':
      return operand.value;
    case 'pipeline':
      return evaluate(operand.pipeline, dot, root);
    case 'function':
      return FUNCTIONS[operand.name]!();
    case 'field':
      return lookup(operand.base === 'root' ? root : dot, operand.path);
  }
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

/** Go's notion of empty: false, 0, nil, and empty strings, lists and maps. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

const sortedKeys = (value: object) => Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Prints a value as Go's text/template does for the types JSON can hold. */
function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<no value>';
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (typeof value === 'object') {
    throw new TemplateError('template: an object cannot be printed as it is; print it with {{json …}}');
  }
  return String(value);
}

// --- functions

const str = (value: unknown, name: string): string => {
  if (typeof value !== 'string') throw new TemplateError(`template: ${name} wants a string, not ${JSON.stringify(value)}`);
  return value;
};
const int = (value: unknown, name: string): number => {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TemplateError(`template: ${name} wants an integer`);
  return value;
};
const arity = (name: string, args: unknown[], count: number) => {
  if (args.length !== count) throw new TemplateError(`template: wrong number of args for ${name}: want ${count} got ${args.length}`);
};

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  // The docker CLI's (cli/templates): json without HTML escaping, as its encoder is set up.
  json: (...args) => (arity('json', args, 1), JSON.stringify(args[0] ?? null)),
  join: (...args) => {
    arity('join', args, 2);
    if (!Array.isArray(args[0])) throw new TemplateError('template: join wants a list');
    return args[0].map((item) => goPrint(item)).join(str(args[1], 'join'));
  },
  split: (...args) => (arity('split', args, 2), str(args[0], 'split').split(str(args[1], 'split'))),
  upper: (...args) => (arity('upper', args, 1), str(args[0], 'upper').toUpperCase()),
  lower: (...args) => (arity('lower', args, 1), str(args[0], 'lower').toLowerCase()),
  // cases.Title with NoLower: each word's first letter upper-cased, the rest left as it is.
  title: (...args) => (arity('title', args, 1), str(args[0], 'title').replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, before: string, letter: string) => before + letter.toUpperCase())),
  truncate: (...args) => {
    arity('truncate', args, 2);
    const text = str(args[0], 'truncate');
    const length = int(args[1], 'truncate');
    return text.length < length ? text : text.slice(0, length);
  },
  pad: (...args) => (arity('pad', args, 3), ' '.repeat(int(args[1], 'pad')) + str(args[0], 'pad') + ' '.repeat(int(args[2], 'pad'))),
  // Go's own.
  len: (...args) => {
    arity('len', args, 1);
    const value = args[0];
    if (typeof value === 'string') return Buffer.byteLength(value);
    if (Array.isArray(value)) return value.length;
    if (typeof value === 'object' && value !== null) return Object.keys(value).length;
    throw new TemplateError(`template: len of ${JSON.stringify(value)}`);
  },
  index: (...args) => {
    if (args.length < 1) throw new TemplateError('template: index wants at least one argument');
    return args.slice(1).reduce((value, key) => {
      if (Array.isArray(value)) {
        const at = int(key, 'index');
        if (at < 0 || at >= value.length) throw new TemplateError(`template: index out of range: ${at}`);
        return value[at];
      }
      if (typeof value === 'object' && value !== null) return (value as Record<string, unknown>)[String(key)];
      throw new TemplateError(`template: can't index ${JSON.stringify(value)}`);
    }, args[0]);
  },
  printf: (...args) => printf(str(args[0], 'printf'), args.slice(1)),
  print: (...args) => args.map((arg) => goPrint(arg)).join(''),
  println: (...args) => `${args.map((arg) => goPrint(arg)).join(' ')}\n`,
  not: (...args) => (arity('not', args, 1), !truthy(args[0])),
  and: (...args) => args.find((arg) => !truthy(arg)) ?? args.at(-1),
  or: (...args) => args.find((arg) => truthy(arg)) ?? args.at(-1),
  eq: (...args) => args.slice(1).some((arg) => arg === args[0]),
  ne: (...args) => (arity('ne', args, 2), args[0] !== args[1]),
  lt: (...args) => compare('lt', args) < 0,
  le: (...args) => compare('le', args) <= 0,
  gt: (...args) => compare('gt', args) > 0,
  ge: (...args) => compare('ge', args) >= 0,
};

function compare(name: string, args: unknown[]): number {
  arity(name, args, 2);
  const [a, b] = args;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError(`template: ${name}: incompatible types for comparison`);
}

/** Go's fmt verbs people use in templates: %s %v %d %q %f %x with flags, width and precision. */
function printf(format: string, args: unknown[]): string {
  let next = 0;
  return format.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([%svdqfxX])/g, (_whole, flags: string, width?: string, precision?: string, verb?: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[next++];
    let text: string;
    switch (verb) {
      case 'd':
        text = String(int(arg, 'printf %d'));
        break;
      case 'f':
        if (typeof arg !== 'number') throw new TemplateError('template: printf %f wants a number');
        text = arg.toFixed(precision === undefined ? 6 : Number(precision));
        break;
      case 'q':
        text = JSON.stringify(str(arg, 'printf %q'));
        break;
      case 'x':
      case 'X':
        text = typeof arg === 'number' ? arg.toString(16) : Buffer.from(str(arg, `printf %${verb}`)).toString('hex');
        if (verb === 'X') text = text.toUpperCase();
        break;
      default:
        text = goPrint(arg);
        if (precision !== undefined) text = [...text].slice(0, Number(precision)).join('');
    }
    const size = Number(width ?? 0);
    if ([...text].length >= size) return text;
    if (flags.includes('-')) return text.padEnd(size);
    return flags.includes('0') && /[dfxX]/.test(verb!) ? text.padStart(size, '0') : text.padStart(size);
  });
}
