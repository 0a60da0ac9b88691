import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderList } from '../../src/cli/format/list-format.js';
import { renderTable } from '../../src/cli/format/table.js';
import { TemplateError } from '../../src/cli/format/go-template.js';

const rows = [
  { ID: 'abc', Names: 'web' },
  { ID: 'defghijklmnop', Names: 'db' },
];
const titles = { ID: 'CONTAINER ID', Names: 'NAMES' };

test('a plain template prints one line per row', () => {
  assert.equal(renderList('{{.Names}}', rows, titles), 'web\ndb\n');
  assert.equal(renderList('{{.ID}}\\t{{.Names}}', rows, titles), 'abc\tweb\ndefghijklmnop\tdb\n');
});

test('a table template adds the titles and aligns on tabs as docker does', () => {
  assert.equal(
    renderList('table {{.ID}}\\t{{.Names}}', rows, titles),
    'CONTAINER ID    NAMES\nabc             web\ndefghijklmnop   db\n',
  );
});

test('json prints each row as an object; unknown fields fail clearly', () => {
  assert.equal(renderList('json', rows.slice(0, 1), titles), '{"ID":"abc","Names":"web"}\n');
  assert.throws(() => renderList('{{.Nope}}', rows, titles), TemplateError);
});

test('on a terminal a table wider than it is narrowed to fit: the widest column first, cut cells end in …', () => {
  const header = ['CONTAINER ID', 'COMMAND', 'STATUS', 'NAMES'];
  const row = ['0123456789ab', '"sh -c \'while true; do echo tick; sleep 1; done\'"', 'Up 2 minutes', 'a_rather_long_container_name'];
  const natural = renderTable(header, [row]);
  assert.equal(renderTable(header, [row], undefined, 200), natural, 'a table that fits is left as it is');
  const fitted = renderTable(header, [row], undefined, 80);
  const lines = fitted.split('\n').filter(Boolean);
  for (const line of lines) assert.ok([...line].length <= 80, `${line} (${[...line].length} columns)`);
  assert.match(lines[0]!, /^CONTAINER ID {3}COMMAND +STATUS {9}NAMES$/);
  // The two wide columns end up alike; the narrow ones keep their text.
  assert.match(lines[1]!, /^0123456789ab {3}"sh -c 'while true; do… {3}Up 2 minutes {3}a_rather_long_container…$/);
  // Never narrower than a title: a terminal too narrow for the titles gets them whole.
  const narrow = renderTable(header, [row], undefined, 20).split('\n')[0]!;
  assert.equal(narrow, 'CONTAINER ID   COMMAND   STATUS    NAMES');
});

test('renderList narrows a table to the width it is given', () => {
  const long = { ID: 'abc', Names: 'x'.repeat(60) };
  assert.equal(renderList('table {{.ID}}\\t{{.Names}}', [long], titles, 30), `CONTAINER ID   NAMES\nabc            ${'x'.repeat(14)}…\n`);
});

test('a field that does not exist is an error even when there is no row, as docker', () => {
  assert.throws(() => renderList('{{.Nope}}', [], titles), TemplateError);
  assert.equal(renderList('{{.Names}}', [], titles), '');
});
