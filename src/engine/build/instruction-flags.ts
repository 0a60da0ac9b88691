/**
 * The `--name=value` flags of one Dockerfile instruction, as buildkit's BFlags: each
 * instruction declares the flags it knows; an unknown flag, a repeated one (except lists), a
 * string flag without a value or a boolean with a bad one is an error in Docker's words.
 */
import { suggestion } from './suggest.js';

type FlagType = 'bool' | 'string' | 'strings';

export class InstructionFlags {
  private readonly declared = new Map<string, FlagType>();
  private readonly values = new Map<string, string[]>();

  constructor(private readonly args: readonly string[]) {}

  bool(name: string): this {
    this.declared.set(name, 'bool');
    return this;
  }
  string(name: string): this {
    this.declared.set(name, 'string');
    return this;
  }
  strings(name: string): this {
    this.declared.set(name, 'strings');
    return this;
  }

  /** Reads the words given; throws Docker's message for the first bad one. */
  parse(): this {
    for (const arg of this.args) {
      if (arg === '--') return this;
      if (!arg.startsWith('--')) throw new Error(`arg should start with -- : ${arg}`);
      const eq = arg.indexOf('=');
      const flagName = eq === -1 ? arg : arg.slice(0, eq);
      const value = eq === -1 ? undefined : arg.slice(eq + 1);
      const name = flagName.slice(2);
      const type = this.declared.get(name);
      if (type === undefined) throw new Error(`unknown flag: ${flagName}${suggestion(name, [...this.declared.keys()])}`);
      if (this.values.has(name) && type !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      const list = this.values.get(name) ?? [];
      this.values.set(name, list);
      if (type === 'bool') {
        if (value === '') throw new Error(`missing a value on flag: ${flagName}`);
        const lower = (value ?? '').toLowerCase();
        if (lower !== 'true' && lower !== '' && lower !== 'false') throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
        list.push(lower === 'false' ? 'false' : 'true');
      } else {
        if (value === undefined) throw new Error(`missing a value on flag: ${flagName}`);
        list.push(value);
      }
    }
    return this;
  }

  /** The value of a string flag, '' when not given. */
  value(name: string): string {
    return this.values.get(name)?.at(-1) ?? '';
  }
  /** A boolean flag: undefined when not given. */
  flag(name: string): boolean | undefined {
    const value = this.values.get(name)?.at(-1);
    return value === undefined ? undefined : value === 'true';
  }
  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  /** The names of the flags given, in the order first seen. */
  used(): string[] {
    return [...this.values.keys()];
  }
}
