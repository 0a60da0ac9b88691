import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidParameter } from '../common/errors.js';
import { API_VERSION } from './version.js';

export const SERVER_HEADER = 'Berth/0.1.0 (linux)';

/** Headers dockerd puts on every normal response; the docker CLI reads Api-Version from them. */
export function standardHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: SERVER_HEADER,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  res.end();
}

const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Reads a JSON request body (bounded); an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return (await readOptionalJson(req)) ?? {};
}

/** Reads a JSON object body (bounded); an empty body or `null` (what Go sends for a nil pointer) is undefined. */
export async function readOptionalJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw invalidParameter(`request body is larger than ${MAX_JSON_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '' || text === 'null') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidParameter(`invalid JSON in request body: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter('invalid JSON in request body: expected an object');
  }
  return value as Record<string, unknown>;
}

/** What moby's httputils.BoolValue reads as false; anything else given is true. */
const FALSE_VALUES = ['', '0', 'no', 'false', 'none'];

/** Query helpers with Docker's parsing rules ("1", "true", "True" are true). */
export class Query {
  constructor(private readonly params: URLSearchParams) {}

  string(name: string): string | undefined {
    const value = this.params.get(name);
    return value === null ? undefined : value;
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  /** As moby's BoolValueOrDefault: `fallback` when absent, else false only for its false words. */
  bool(name: string, fallback = false): boolean {
    const value = this.params.get(name);
    if (value === null) return fallback;
    return !FALSE_VALUES.includes(value.trim().toLowerCase());
  }

  int(name: string): number | undefined {
    const value = this.params.get(name);
    if (value === null || value === '') return undefined;
    const number = Number(value);
    if (!Number.isInteger(number)) throw invalidParameter(`invalid value for ${name}: ${value}`);
    return number;
  }

  json<T>(name: string): T | undefined {
    const value = this.params.get(name);
    if (value === null || value === '') return undefined;
    try {
      return JSON.parse(value) as T;
    } catch {
      throw invalidParameter(`invalid ${name} parameter: ${value}`);
    }
  }
}
