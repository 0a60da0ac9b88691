import { executeTemplate, parseTemplate } from './go-template.js';
import { renderTable } from './table.js';

/** A row as Go's encoding/json writes a map: keys sorted, <, > and & escaped. */
function goJsonObject(row: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.keys(row).sort().map((key) => [key, row[key]]));
  return JSON.stringify(sorted).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * `--format` for list commands, as the docker CLI's formatter reads it: `table TEMPLATE` prints a
 * header row (the template run over the column titles) and aligns the cells on tabs; `json`
 * prints each row as a JSON object; any other template is run once per row and printed as is.
 * A `\t` or `\n` typed in the template stands for a tab or a newline.
 */
export function renderList(format: string, rows: ReadonlyArray<Record<string, string>>, titles: Record<string, string>): string {
  if (format === 'json') return rows.map((row) => `${goJsonObject(row)}\n`).join('');
  const table = format.startsWith('table');
  const template = parseTemplate((table ? format.slice('table'.length).trimStart() : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  if (!table) return rows.map((row) => `${executeTemplate(template, row)}\n`).join('');
  const split = (line: string) => line.split('\t');
  return renderTable(split(executeTemplate(template, titles)), rows.map((row) => split(executeTemplate(template, row))));
}
