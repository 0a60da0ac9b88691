/**
 * Runs the most frequent command lines once while the CLI's startup snapshot is built, against a
 * canned daemon on a temporary unix socket. V8 compiles a function to bytecode the first time it
 * runs and the snapshot keeps that bytecode; a function that never ran at build time is parsed and
 * compiled again by every call (about a fifth of a `berth version` or `berth ps` call's CPU went to
 * that). So the code of parsing a command line, the HTTP exchange, reading the answer and printing
 * it is run here once, with the output thrown away. Nothing of it stays behind: the server and its
 * socket are gone, and each line ran on its own context, as every call does.
 */
import { createServer, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { EngineClient } from '../client/index.js';
import type { CliContext } from './context.js';
import { runCommandLine } from './main.js';

const CONTAINER_ID = 'c0ffee'.repeat(10) + 'c0ff';

/** The answers a daemon gives to the lines below, by method and path (without version or query). */
const ANSWERS: Record<string, unknown> = {
  'GET /version': {
    Platform: { Name: 'Berth' },
    Version: '0.1.0',
    ApiVersion: '1.50',
    MinAPIVersion: '1.24',
    Os: 'linux',
    Arch: 'amd64',
    Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.50' } }],
  },
  'GET /containers/json': [
    {
      Id: CONTAINER_ID,
      Names: ['/warm_up'],
      Image: 'busybox',
      Command: 'sh -c "echo a long enough command"',
      Created: 1_700_000_000,
      Ports: [],
      Labels: {},
      State: 'exited',
      Status: 'Exited (0) 2 minutes ago',
      NetworkSettings: { Networks: {} },
    },
  ],
  'POST /containers/create': { Id: CONTAINER_ID, Warnings: [] },
  'POST /containers/{id}/wait': { StatusCode: 0 },
  'POST /containers/{id}/start': null,
  'GET /images/json': [
    { Id: `sha256:${CONTAINER_ID}`, RepoTags: ['busybox:latest'], Created: 1_700_000_000, ParentId: '', RepoDigests: [], SharedSize: -1, Size: 4_261_550, Labels: {}, Containers: -1 },
  ],
};

/** What a build answers once the context has come: the quiet stream of a cached build. */
const BUILT = `{"aux":{"ID":"sha256:${CONTAINER_ID}"}}\r\n`;

/** What an attach answers: the switch to the raw stream, then one frame of output on stdout. */
const ATTACHED =
  'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n' +
  '\x01\0\0\0\0\0\0\x03hi\n';

/** Command lines whose code the snapshot should hold compiled. */
const LINES = [
  ['version'],
  ['ps', '-a'],
  ['ps', '-aq'],
  ['images'],
  ['run', '--rm', '--network', 'none', 'busybox', 'true'],
  ['run', '-d', 'busybox', 'true'],
  // Packing and sending a context (a few files, a .dockerignore), then the build's JSON stream.
  ['build', '-q', '-t', 'warm-up', '{context}'],
];

/** A small context for the build line: a Dockerfile, a file to copy, an ignored one. */
function makeContext(dir: string): string {
  const context = join(dir, 'context');
  mkdirSync(join(context, 'sub'), { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), 'FROM busybox\nCOPY sub /sub\n');
  writeFileSync(join(context, '.dockerignore'), '*.log\n');
  writeFileSync(join(context, 'sub', 'file.txt'), 'warm\n');
  writeFileSync(join(context, 'ignored.log'), 'not sent\n');
  return context;
}

export async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-warmup-'));
  const socketPath = join(dir, 'daemon.sock');
  const server = createServer(answer);
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
    const context = makeContext(dir);
    for (const line of LINES) {
      const args = line.map((arg) => (arg === '{context}' ? context : arg));
      const errors: string[] = [];
      const code = await runCommandLine(args, sinkContext(socketPath, errors));
      // A line that fails warms up only its failure: say so, rather than build a slower CLI quietly.
      if (code !== 0) throw new Error(`berth ${args.join(' ')} exited ${code} against the canned daemon: ${errors.join('')}`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Answers one request (each comes on its own connection) from ANSWERS, or with a 404. */
function answer(socket: Socket): void {
  let head = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    head += chunk;
    if (!head.includes('\r\n\r\n')) return;
    const [method, target = ''] = head.split(' ', 2);
    const route = `${method} ${target.replace(/^\/v[\d.]+/, '').replace(/\?.*$/, '').replace(CONTAINER_ID, '{id}')}`;
    if (route === 'POST /build') {
      // Answered once the whole chunked body is in, as berthd answers a cached build.
      if (!head.endsWith('\r\n0\r\n\r\n')) return;
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${BUILT.length}\r\n\r\n${BUILT}`);
      return;
    }
    if (route === 'POST /containers/{id}/attach') {
      socket.end(ATTACHED, 'latin1');
      return;
    }
    const found = route in ANSWERS;
    if (found && ANSWERS[route] === null) {
      socket.end('HTTP/1.1 204 No Content\r\n\r\n');
      return;
    }
    const body = JSON.stringify(found ? ANSWERS[route] : { message: `no answer for ${route}` });
    const status = found ? '200 OK' : '404 Not Found';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

/** A context whose output goes nowhere (stderr into `errors`) and whose client speaks to the canned daemon. */
function sinkContext(socketPath: string, errors: string[]): CliContext {
  const sink = (keep?: string[]) =>
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        keep?.push(chunk.toString());
        done();
      },
    }) as unknown as NodeJS.WriteStream;
  const client = new EngineClient(socketPath);
  return {
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    stdout: sink(),
    stderr: sink(errors),
    client: () => client,
    configDir: () => '/nonexistent',
    config: () => ({}),
    close: () => client.close(),
  };
}
