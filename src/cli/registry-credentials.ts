/**
 * Registry credentials kept as the docker CLI keeps them, in its config.json ($DOCKER_CONFIG or
 * ~/.docker): `auths` entries (base64 "user:password"), or a credential helper
 * (docker-credential-NAME get/store/erase) named by `credHelpers` per registry or `credsStore`.
 * Docker Hub's key is "https://index.docker.io/v1/". The CLI sends them to the daemon as
 * X-Registry-Auth (base64url JSON).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliExit } from './cli-exit.js';

export const HUB_SERVER = 'https://index.docker.io/v1/';

export interface StoredCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function configPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** The registry an image name lives in, as the key config.json uses ("127.0.0.1:5000", Hub's URL). */
export function registryOfImage(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  return !isRegistry || first === 'docker.io' || first === 'index.docker.io' ? HUB_SERVER : first;
}

/** What `login SERVER` names, as a config.json key: Hub's URL for Hub, else host[:port]. */
export function serverKey(server: string | undefined): string {
  if (!server) return HUB_SERVER;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? HUB_SERVER : host;
}

async function readConfig(): Promise<ConfigFile> {
  try {
    return JSON.parse(await readFile(configPath(), 'utf8')) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliExit(1, `berth: loading config file ${configPath()}: ${(err as Error).message}`);
  }
}

async function writeConfig(config: ConfigFile): Promise<void> {
  const path = configPath();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
  await rename(temp, path);
}

function helperOf(config: ConfigFile, server: string): string | undefined {
  return config.credHelpers?.[server] ?? config.credsStore;
}

/** node:child_process is loaded on first use: kept out of the CLI's start-up snapshot (scripts/build-cli.mjs). */
function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string> {
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, [action], { encoding: 'utf8' }, (err, stdout) => {
      if (err) reject(new CliExit(1, `berth: credential helper docker-credential-${helper} ${action}: ${(stdout || err.message).trim()}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export async function loadCredentials(server: string): Promise<StoredCredentials> {
  const config = await readConfig();
  const helper = helperOf(config, server);
  if (helper) {
    try {
      const json = JSON.parse(await runHelper(helper, 'get', server)) as { Username?: string; Secret?: string };
      // "<token>" as the user name marks an identity token (docker's credentials store convention).
      if (json.Username === '<token>') return { identitytoken: json.Secret };
      return { username: json.Username, password: json.Secret };
    } catch {
      return {};
    }
  }
  const entry = config.auths?.[server];
  if (!entry) return {};
  if (entry.identitytoken) return { identitytoken: entry.identitytoken };
  if (!entry.auth) return {};
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? {} : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Stores credentials; resolves with where (for the docker CLI's warning about plain storage). */
export async function storeCredentials(server: string, credentials: StoredCredentials): Promise<{ helper?: string }> {
  const config = await readConfig();
  const helper = helperOf(config, server);
  if (helper) {
    const secret = credentials.identitytoken ?? credentials.password ?? '';
    const username = credentials.identitytoken ? '<token>' : (credentials.username ?? '');
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: server, Username: username, Secret: secret }));
    config.auths = { ...config.auths, [server]: {} };
  } else {
    const auth = Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64');
    config.auths = { ...config.auths, [server]: credentials.identitytoken ? { identitytoken: credentials.identitytoken } : { auth } };
  }
  await writeConfig(config);
  return { helper };
}

/** Removes stored credentials; false when there were none. */
export async function eraseCredentials(server: string): Promise<boolean> {
  const config = await readConfig();
  const helper = helperOf(config, server);
  const had = config.auths?.[server] !== undefined;
  if (helper) await runHelper(helper, 'erase', server).catch(() => undefined);
  if (had) {
    delete config.auths![server];
    await writeConfig(config);
  }
  return had;
}

/**
 * The X-Registry-Config value a build sends, as the docker CLI's: every stored login (config.json
 * auths and the credential helpers named for registries) as base64url JSON server → AuthConfig.
 */
export async function registryConfigHeader(): Promise<string> {
  const config = await readConfig();
  const servers = new Set([...Object.keys(config.auths ?? {}), ...Object.keys(config.credHelpers ?? {})]);
  const auths: Record<string, StoredCredentials & { serveraddress: string }> = {};
  for (const server of servers) auths[server] = { ...(await loadCredentials(server)), serveraddress: server };
  return Buffer.from(JSON.stringify(auths)).toString('base64url');
}

/** The X-Registry-Auth value for an image's registry: base64url JSON, "e30=" ({}) when none is stored. */
export async function registryAuthHeader(imageName: string): Promise<string> {
  const server = registryOfImage(imageName);
  const credentials = await loadCredentials(server);
  if (!credentials.username && !credentials.password && !credentials.identitytoken) return 'e30=';
  return Buffer.from(JSON.stringify({ ...credentials, serveraddress: server })).toString('base64url');
}
