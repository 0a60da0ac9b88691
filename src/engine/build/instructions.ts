/**
 * Typed Dockerfile instructions, as buildkit's frontend/dockerfile/instructions: what each
 * instruction says, before any variable is substituted. Made by instruction-parser.ts from the
 * parser's nodes; substituted by expansion.ts when the builder reaches them.
 */

export interface Location {
  startLine: number;
  endLine: number;
}

interface Common {
  /** The instruction as written (continuations joined, trimmed): what `Step n/m :` shows. */
  code: string;
  location: Location;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface ArgDeclaration {
  key: string;
  /** undefined for `ARG NAME` (no default). */
  value?: string;
}

/** A heredoc used as a COPY/ADD source: a file made of its body. */
export interface SourceContent {
  path: string;
  data: string;
  expand: boolean;
}

/** A heredoc of a RUN/CMD/ENTRYPOINT: its body, for the builder to feed to the command. */
export interface InlineFile {
  name: string;
  data: string;
  chomp: boolean;
}

/** The command of RUN, CMD and ENTRYPOINT: exec form, or shell form (run under SHELL). */
export interface CommandLine {
  /** The words of the exec form, or the one string of the shell form; null for `ENTRYPOINT []`. */
  cmdLine: string[] | null;
  prependShell: boolean;
  files: InlineFile[];
}

export interface HealthcheckSpec {
  /** ["NONE"], ["CMD", …] or ["CMD-SHELL", "…"]. */
  test: string[];
  /** Durations in nanoseconds, 0 for "inherit". */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface SourcesAndDest {
  sources: string[];
  contents: SourceContent[];
  dest: string;
}

export type Instruction =
  | (Common & { kind: 'env'; env: KeyValue[] })
  | (Common & { kind: 'maintainer'; maintainer: string })
  | (Common & { kind: 'label'; labels: KeyValue[]; /** --label of the build: not expanded. */ noExpand?: boolean })
  | (Common & SourcesAndDest & { kind: 'add'; chown: string; chmod: string; link: boolean; keepGitDir?: boolean; checksum: string; unpack?: boolean; excludes: string[] })
  | (Common & SourcesAndDest & { kind: 'copy'; from: string; chown: string; chmod: string; link: boolean; parents: boolean; excludes: string[] })
  | (Common & { kind: 'onbuild'; expression: string })
  | (Common & { kind: 'workdir'; path: string })
  | (Common & CommandLine & { kind: 'run'; /** RUN --mount/--network/--security/--device given (BuildKit only). */ flagsUsed: string[] })
  | (Common & CommandLine & { kind: 'cmd' })
  | (Common & CommandLine & { kind: 'entrypoint' })
  | (Common & { kind: 'healthcheck'; health: HealthcheckSpec })
  | (Common & { kind: 'expose'; ports: string[] })
  | (Common & { kind: 'user'; user: string })
  | (Common & { kind: 'volume'; volumes: string[] })
  | (Common & { kind: 'stopsignal'; signal: string })
  | (Common & { kind: 'arg'; args: ArgDeclaration[] })
  | (Common & { kind: 'shell'; shell: string[] });

export type InstructionKind = Instruction['kind'];
export type InstructionOf<K extends InstructionKind> = Extract<Instruction, { kind: K }>;

/** A FROM line and the instructions under it. */
export interface Stage {
  /** Position among all the Dockerfile's stages. */
  index: number;
  /** The `AS` name, lower-case; '' when unnamed. */
  name: string;
  /** The image or earlier stage, before substitution of the ARGs declared before FROM. */
  baseName: string;
  /** `--platform`, before substitution. */
  platform: string;
  code: string;
  location: Location;
  commands: Instruction[];
}

/** A parsed Dockerfile: the ARGs before the first FROM, then the stages. */
export interface DockerfileInstructions {
  metaArgs: Array<InstructionOf<'arg'>>;
  stages: Stage[];
  escapeToken: string;
  warnings: string[];
}
