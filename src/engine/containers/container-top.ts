/**
 * `docker top`: the host's `ps` (moby runs it the same way, `-ef` by default), its lines kept
 * for the processes in the container's cgroup. Columns as ps titled them; the last one takes
 * the rest of the line (a command with spaces).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BerthError } from '../../common/errors.js';

const run = promisify(execFile);
/** Bounds what a `ps` with a huge format can make the daemon hold. */
const MAX_PS_OUTPUT = 16 << 20;

export interface ProcessList {
  Titles: string[];
  Processes: string[][];
}

/** Go's strings.FieldsFunc over ASCII white space, as moby splits ps output. */
const fields = (line: string) => line.split(/[\t\n\f\r ]+/).filter((f) => f !== '');

/** The lines of `output` whose PID column names one of `pids`; a thread line ("-") follows its process. */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): ProcessList {
  const [header = '', ...lines] = output.split('\n');
  const titles = fields(header);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw new BerthError('internal', "Couldn't find PID field in ps output");
  const processes: string[][] = [];
  let previousContained = false;
  for (const line of lines) {
    if (line === '') continue;
    const values = fields(line);
    const pidText = values[pidIndex] ?? '';
    let contained: boolean;
    if (pidText === '-') contained = previousContained;
    else {
      if (!/^[+-]?\d+$/.test(pidText)) throw new BerthError('internal', `Unexpected pid '${pidText}': strconv.Atoi: parsing "${pidText}": invalid syntax`);
      contained = pids.has(Number(pidText));
      previousContained = contained;
    }
    if (contained) processes.push([...values.slice(0, titles.length - 1), values.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

/** Runs `ps` with the user's arguments (split on spaces, as moby) and keeps the container's lines. */
export async function topOf(pids: number[], psArgs: string): Promise<ProcessList> {
  let stdout: string;
  try {
    ({ stdout } = await run('ps', (psArgs || '-ef').split(' '), { encoding: 'utf8', maxBuffer: MAX_PS_OUTPUT }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new BerthError('internal', `Error running ps: ${typeof code === 'number' ? `exit status ${code}` : (err as Error).message}`, { cause: err });
  }
  return parsePsOutput(stdout, new Set(pids));
}
