#!/usr/bin/env node
/**
 * Builds the berth CLI from tsc's output (dist/src/cli):
 *  - dist/berth-cli.mjs: one ESM bundle, which `node bin/berth` loads;
 *  - dist/berth-cli.blob: a V8 startup snapshot with that code already loaded and evaluated, which
 *    bin/berth run as a program hands to node (--snapshot-blob): no module to read, parse or link.
 * The snapshot is tied to the node binary that built it; rebuild after changing node.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['dist/src/cli/main.js'],
  format: 'esm',
  outfile: 'dist/berth-cli.mjs',
  // Commander is CommonJS: its require() calls need a require in the ESM bundle.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});

/**
 * Node refuses some built-in modules in a snapshot (node:http) and only warns about others
 * (node:child_process, which commander loads for executable subcommands berth does not have).
 * Our code does not load node:http (src/client/http-exchange.ts), and loads node:child_process
 * only in commands that run at call time; this hands commander a stand-in that loads
 * node:child_process when a property of it is first read.
 */
const deferChildProcess = {
  name: 'defer-child-process',
  setup(plugin) {
    plugin.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/') ? { path: 'child_process', namespace: 'deferred' } : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'deferred' }, () => ({
      contents:
        "module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/**
 * Every call deserializes the snapshot's heap, so its size is paid on every call (about 4–5 ms of
 * CPU per MB here). The heap keeps the bundle's source text for lazy compilation: minified, that
 * text is half the size. And it must stay Latin-1: a single character above U+00FF anywhere in it
 * (a '…' in a comment did this) makes V8 store the whole source as a two-byte string, 0.4 MB more.
 * The module bundle above stays readable for `node bin/berth` and its stack traces.
 */
const snapshotEntry = 'dist/berth-cli-snapshot.cjs';
await build({
  ...common,
  entryPoints: ['dist/src/cli/snapshot-main.js'],
  format: 'cjs',
  outfile: snapshotEntry,
  plugins: [deferChildProcess],
  minify: true,
  charset: 'ascii',
});
const wide = /[^\x00-\xff]/u.exec(readFileSync(snapshotEntry, 'utf8'));
if (wide) throw new Error(`${snapshotEntry} holds ${JSON.stringify(wide[0])}: the snapshot would keep its source as a two-byte string`);
/**
 * V8 flags the blob is built with; bin/berth must start node with the same ones (V8 refuses a
 * snapshot made under other flags). --no-rehash-snapshot: by default V8 draws a new hash seed when
 * it starts from a snapshot and rehashes every string and dictionary in it, which for this 4.9 MB
 * heap is about 7 ms of each call's CPU. Without it, every call keeps the seed this build drew at
 * random (see docs/performance.md for why that is acceptable for a CLI).
 */
const SNAPSHOT_FLAGS = ['--no-rehash-snapshot'];
execFileSync(process.execPath, [...SNAPSHOT_FLAGS, '--snapshot-blob', 'dist/berth-cli.blob', '--build-snapshot', snapshotEntry], {
  stdio: 'inherit',
});
rmSync(snapshotEntry);
