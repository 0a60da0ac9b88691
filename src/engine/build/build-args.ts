/**
 * Build arguments as Docker's classic builder tracks them (moby daemon/builder/dockerfile
 * buildargs.go): `--build-arg` values, the ARGs declared before the first FROM (meta args, for
 * FROM lines and for stages that declare them again), the ARGs declared in the current stage
 * (allowed: visible to later instructions and to RUN), and the predefined proxy args, which
 * need no declaration but stay out of the image's history unless declared.
 */

/** The proxy variables every build accepts without an ARG (and keeps out of RUN's history). */
export const BUILTIN_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

/** `--build-arg` values; null for a name given without a value (Docker then ignores it). */
export type BuildArgOptions = Readonly<Record<string, string | null>>;

export class BuildArgs {
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  constructor(private readonly options: BuildArgOptions = {}) {}

  /** The args of a new stage: the meta args and what was referenced so far, nothing allowed yet. */
  forStage(): BuildArgs {
    const copy = new BuildArgs(this.options);
    for (const [key, value] of this.meta) copy.meta.set(key, value);
    for (const key of this.referenced) copy.referenced.add(key);
    return copy;
  }

  /** An ARG of the current stage. */
  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  /** An ARG before the first FROM: visible to FROM lines, and to stages that declare it again. */
  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  /** Remembers the names a finished stage referenced (for the unused-args warning). */
  mergeReferenced(other: BuildArgs): void {
    for (const key of other.referenced) this.referenced.add(key);
  }

  /** Every allowed arg with a value, builtins included when given with --build-arg. */
  allowedValues(): Map<string, string> {
    return this.valuesOf(this.allowed);
  }

  /** Every meta arg with a value (what FROM lines are expanded with). */
  metaValues(): Map<string, string> {
    return this.valuesOf(this.meta);
  }

  /** `KEY=value` for the allowed args that `env` (the stage's ENV) does not set itself. */
  filterAllowed(env: readonly string[]): string[] {
    const allowed = this.allowedValues();
    if (allowed.size === 0) return [];
    for (const entry of env) {
      const eq = entry.indexOf('=');
      allowed.delete(eq === -1 ? entry : entry.slice(0, eq));
    }
    return [...allowed].map(([key, value]) => `${key}=${value}`);
  }

  /** Whether a RUN's history shows this arg: declared in the stage, or not a builtin proxy arg. */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  /** The `--build-arg` names nothing declared. */
  unusedOptions(): string[] {
    return Object.keys(this.options)
      .filter((key) => !this.referenced.has(key) && !BUILTIN_ARGS.has(key))
      .sort();
  }

  /** The line Docker prints at the end of a build that left `--build-arg`s unused, if any. */
  unusedWarning(): string | undefined {
    const unused = this.unusedOptions();
    return unused.length === 0 ? undefined : `[Warning] One or more build-args [${unused.join(' ')}] were not consumed`;
  }

  private valuesOf(source: Map<string, string | undefined>): Map<string, string> {
    const values = new Map<string, string>();
    for (const key of new Set([...source.keys(), ...BUILTIN_ARGS])) {
      const value = this.valueOf(key, source);
      if (value !== undefined) values.set(key, value);
    }
    return values;
  }

  /** --build-arg wins, then the declaration's default, then (for a bare `ARG X` or a builtin) the meta arg's. */
  private valueOf(key: string, source: Map<string, string | undefined>): string | undefined {
    const option = this.options[key];
    if (option !== undefined && option !== null) return option;
    return source.get(key) ?? this.meta.get(key);
  }
}
