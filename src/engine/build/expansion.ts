/**
 * Variable substitution in exactly the instructions and fields where Docker's classic builder
 * applies it (the instructions implementing SupportsSingleWordExpansion in buildkit, dispatched
 * by moby's evaluator.go): ENV and LABEL keys and values, ARG names and defaults, ADD/COPY
 * sources, destination, --chown and --chmod (ADD's --checksum too; never COPY's --from), WORKDIR,
 * USER, VOLUME, STOPSIGNAL, and EXPOSE (split into words). RUN, CMD, ENTRYPOINT, SHELL,
 * HEALTHCHECK, MAINTAINER and ONBUILD are left as written: the shell, or the child build, does
 * its own substitution. Heredoc bodies of COPY/ADD are expanded unless their name was quoted,
 * as BuildKit does (the classic builder has no heredocs).
 */
import type { Instruction, KeyValue, SourcesAndDest } from './instructions.js';
import type { EnvLookup, ShellLex } from './shell-lex.js';

/** `instruction` with its variables substituted from `env`; the input is not modified. */
export function expandInstruction(instruction: Instruction, lex: ShellLex, env: EnvLookup): Instruction {
  const word = (text: string) => lex.processWord(text, env);
  const pairs = (list: KeyValue[]) => list.map(({ key, value }) => ({ key: word(key), value: word(value) }));
  const files = (s: SourcesAndDest): SourcesAndDest => ({
    sources: s.sources.map(word),
    dest: word(s.dest),
    contents: s.contents.map((content) => (content.expand ? { ...content, data: word(content.data) } : content)),
  });
  switch (instruction.kind) {
    case 'env':
      return { ...instruction, env: pairs(instruction.env) };
    case 'label':
      return instruction.noExpand ? instruction : { ...instruction, labels: pairs(instruction.labels) };
    case 'arg':
      return {
        ...instruction,
        args: instruction.args.map(({ key, value }) => ({ key: word(key), value: value === undefined ? undefined : word(value) })),
      };
    case 'add':
      return { ...instruction, ...files(instruction), chown: word(instruction.chown), chmod: word(instruction.chmod), checksum: word(instruction.checksum) };
    case 'copy':
      return { ...instruction, ...files(instruction), chown: word(instruction.chown), chmod: word(instruction.chmod) };
    case 'workdir':
      return { ...instruction, path: word(instruction.path) };
    case 'user':
      return { ...instruction, user: word(instruction.user) };
    case 'volume':
      return { ...instruction, volumes: instruction.volumes.map(word) };
    case 'stopsignal':
      return { ...instruction, signal: word(instruction.signal) };
    case 'expose':
      return { ...instruction, ports: instruction.ports.flatMap((port) => lex.processWords(port, env)) };
    default:
      return instruction;
  }
}
