import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeTemplate, parseTemplate, TemplateError } from '../../src/cli/format/go-template.js';

const render = (template: string, data: unknown) => executeTemplate(parseTemplate(template), data);

const CONTAINER = {
  Names: 'web',
  Image: 'busybox',
  Labels: { tier: 'front', app: 'shop' },
  Ports: [] as string[],
  Mounts: [{ Source: '/a' }, { Source: '/b' }],
  State: { Running: true, ExitCode: 0, Status: 'running' },
  Args: ['-c', 'sleep 1'],
};

test('the docker CLI\'s functions: json, join, split, upper, lower, title, truncate, pad', () => {
  assert.equal(render('{{json .Labels}}', CONTAINER), '{"tier":"front","app":"shop"}');
  assert.equal(render('{{join .Args ","}}', CONTAINER), '-c,sleep 1');
  assert.equal(render('{{index (split "a:b:c" ":") 1}}', CONTAINER), 'b');
  assert.equal(render('{{upper .Names}} {{lower "ABC"}} {{title "hello wORLD"}}', CONTAINER), 'WEB abc Hello WORLD');
  assert.equal(render('[{{truncate .Image 4}}] [{{truncate .Image 40}}] [{{pad .Names 2 1}}]', CONTAINER), '[busy] [busybox] [  web ]');
});

test('Go\'s own functions: printf, index, len, comparisons, and, or, not', () => {
  assert.equal(render('{{printf "%-8s|%5d|%q|%.2f|%x" .Names 42 .Image 1.5 255}}', CONTAINER), 'web     |   42|"busybox"|1.50|ff');
  assert.equal(render('{{index .Labels "app"}} {{index (index .Mounts 1) "Source"}}', CONTAINER), 'shop /b');
  assert.equal(render('{{len .Mounts}} {{len .Labels}} {{len .Names}}', CONTAINER), '2 2 3');
  assert.equal(render('{{eq .State.Status "running" "paused"}} {{ne 1 2}} {{lt 1 2}} {{ge "a" "b"}}', CONTAINER), 'true true true false');
  assert.equal(render('{{and .State.Running .Names}} {{or .Ports "none"}} {{not .Ports}}', CONTAINER), 'web none true');
});

test('pipelines feed the last argument, parentheses group', () => {
  assert.equal(render('{{.Names | upper | printf "<%s>"}}', CONTAINER), '<WEB>');
  assert.equal(render('{{printf "%s-%s" (upper .Names) (.Image | title)}}', CONTAINER), 'WEB-Busybox');
});

test('if, else if, else, with and range (with else), over lists and maps in key order', () => {
  assert.equal(render('{{if .State.Running}}up{{else}}down{{end}}', CONTAINER), 'up');
  assert.equal(render('{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{else}}other{{end}}', CONTAINER), 'zero');
  assert.equal(render('{{with .State}}{{.Status}}{{end}}|{{with .Ports}}x{{else}}no ports{{end}}', CONTAINER), 'running|no ports');
  assert.equal(render('{{range .Mounts}}{{.Source}};{{end}}', CONTAINER), '/a;/b;');
  assert.equal(render('{{range .Labels}}{{.}} {{end}}', CONTAINER), 'shop front ');
  assert.equal(render('{{range .Ports}}{{.}}{{else}}none{{end}}', CONTAINER), 'none');
  assert.equal(render('{{range .Mounts}}{{$.Names}}:{{.Source}} {{end}}', CONTAINER), 'web:/a web:/b ');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .Names -}}  b{{/* a note */}}', CONTAINER), 'awebb');
  assert.equal(render('{{range .Args -}}\n  [{{.}}]\n{{- end}}', CONTAINER), '[-c][sleep 1]');
});

test('what berth does not carry out is refused at parse time, naming it', () => {
  for (const [template, message] of [
    ['{{$x := .Names}}', /variables are not supported/],
    ['{{template "t" .}}', /is not supported/],
    ['{{define "t"}}x{{end}}', /is not supported/],
    ['{{nosuch .Names}}', /function "nosuch" not defined/],
    ['{{if .Names}}x', /missing \{\{end\}\}/],
    ['{{(upper .Names}}', /unclosed "\("/],
  ] as const) {
    assert.throws(() => parseTemplate(template), (err: unknown) => err instanceof TemplateError && message.test(err.message), template);
  }
});

test('run-time errors are TemplateErrors: missing fields, wrong types, objects printed bare', () => {
  assert.throws(() => render('{{.Nope}}', CONTAINER), /can't evaluate field Nope/);
  assert.throws(() => render('{{upper .Mounts}}', CONTAINER), /upper wants a string/);
  assert.throws(() => render('{{.State}}', CONTAINER), TemplateError);
  assert.throws(() => render('{{index .Mounts 5}}', CONTAINER), /index out of range/);
});
