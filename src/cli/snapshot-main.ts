/**
 * The entry of the CLI's V8 startup snapshot (scripts/build-cli.mjs builds it; bin/berth starts
 * node with it). Everything here runs once, at build time: the modules are loaded and evaluated
 * then, so a call starts with them already in the heap instead of reading and compiling the bundle.
 * Nothing that depends on the calling process (environment, streams, arguments) may be read before
 * the deserialized main function runs.
 */
import { startupSnapshot } from 'node:v8';
import { prepareCall } from './main.js';
import { warmUp } from './snapshot-warmup.js';

/** bin/berth moves NODE_EXTRA_CA_CERTS aside (see there); the CLI's own environment gets it back. */
const SAVED_CA_CERTS = 'BERTH_SAVED_NODE_EXTRA_CA_CERTS';

// The whole command tree, built now and kept in the snapshot: a call only parses its line. (The
// context reads nothing of the process until a command runs: its streams, environment and client
// are made on first use.)
const call = prepareCall();
// Then the code the most frequent command lines run, compiled by running them (node builds the
// snapshot once this has settled: it runs the event loop to its end first).
// A failed warm-up fails the build: a snapshot made from a CLI that cannot print `ps` is no good.
warmUp().catch((err: unknown) => {
  console.error('the CLI warm-up failed:', err);
  process.exit(1);
});

startupSnapshot.setDeserializeMainFunction(() => {
  const saved = process.env[SAVED_CA_CERTS];
  if (saved !== undefined) {
    process.env.NODE_EXTRA_CA_CERTS = saved;
    delete process.env[SAVED_CA_CERTS];
  }
  // bin/berth passes `--` before the arguments, so node hands them all to us: argv is [node, ...args].
  call(process.argv.slice(1)).then((code) => process.exit(code));
});
