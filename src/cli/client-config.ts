/**
 * The docker CLI's client configuration: the directory (`--config`, then DOCKER_CONFIG, then
 * ~/.docker) and its config.json. Berth reads the keys that change what a command does by default
 * (psFormat, imagesFormat, statsFormat, detachKeys, HttpHeaders); the registry keys (auths,
 * credsStore, credHelpers) are there for login, pull and push.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientConfig {
  psFormat?: string;
  imagesFormat?: string;
  statsFormat?: string;
  detachKeys?: string;
  /** Sent with every request to the daemon. */
  HttpHeaders?: Record<string, string>;
  [key: string]: unknown;
}

export const CONFIG_FILE = 'config.json';

export function resolveConfigDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? (env.DOCKER_CONFIG || join(homedir(), '.docker'));
}

/**
 * config.json of `dir`; none is an empty configuration. As the docker CLI, a file that cannot be
 * read or parsed is reported through `warn` and the defaults are used.
 */
export function readClientConfig(dir: string, warn: (text: string) => void): ClientConfig {
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`WARNING: Error loading config file: ${path}: ${(err as Error).message}\n`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ClientConfig;
    warn(`WARNING: Error loading config file: ${path}: not a JSON object\n`);
  } catch (err) {
    warn(`WARNING: Error loading config file: ${path}: ${(err as Error).message}\n`);
  }
  return {};
}
