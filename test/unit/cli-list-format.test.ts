import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderList } from '../../src/cli/format/list-format.js';
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
