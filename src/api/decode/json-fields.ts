/**
 * Reading a decoded JSON body into typed values, failing as dockerd's Go decoder does: a field of
 * the wrong JSON type is a 400 "json: cannot unmarshal <json type> into Go struct field
 * <Struct>.<Field> of type <go type>"; null and absent mean the zero value. Decoders built on
 * these never pass raw JSON on to the engine.
 */
import { invalidParameter } from '../../common/errors.js';

export type JsonObject = Record<string, unknown>;

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'bool';
  return typeof value; // string, number
}

/** Where a field sits, for messages: the Go struct name and the field path below it. */
export class FieldPath {
  constructor(
    readonly struct: string,
    readonly path: readonly string[] = [],
  ) {}

  child(name: string): FieldPath {
    return new FieldPath(this.struct, [...this.path, name]);
  }

  toString(): string {
    return [this.struct, ...this.path].join('.');
  }

  mismatch(value: unknown, goType: string): Error {
    return invalidParameter(`json: cannot unmarshal ${jsonType(value)} into Go struct field ${this} of type ${goType}`);
  }
}

export function object(value: unknown, at: FieldPath): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw at.mismatch(value, at.path.at(-1) ?? at.struct);
  return value as JsonObject;
}

export function string(body: JsonObject, key: string, at: FieldPath): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw at.child(key).mismatch(value, 'string');
  return value;
}

export function bool(body: JsonObject, key: string, at: FieldPath): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw at.child(key).mismatch(value, 'bool');
  return value;
}

const INT_RANGES = {
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
} as const;

/** An integer field; a fraction, or a number outside the Go type's range, is refused as Go does. */
export function integer(body: JsonObject, key: string, at: FieldPath, goType: keyof typeof INT_RANGES = 'int64'): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const [min, max] = INT_RANGES[goType];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const shown = typeof value === 'number' ? `number ${value}` : jsonType(value);
    throw invalidParameter(`json: cannot unmarshal ${shown} into Go struct field ${at.child(key)} of type ${goType}`);
  }
  return value;
}

export function stringArray(body: JsonObject, key: string, at: FieldPath): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw at.child(key).mismatch(value, '[]string');
  for (const item of value) if (typeof item !== 'string') throw at.child(key).mismatch(item, 'string');
  return value as string[];
}

/** A `map[string]string` field (labels, driver options). */
export function stringMap(body: JsonObject, key: string, at: FieldPath): Record<string, string> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw at.child(key).mismatch(value, 'map[string]string');
  for (const item of Object.values(value)) if (typeof item !== 'string') throw at.child(key).mismatch(item, 'string');
  return { ...(value as Record<string, string>) };
}
