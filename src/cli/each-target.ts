import { CliExit, describeError } from './cli-exit.js';
import type { CliContext } from './context.js';

/**
 * Applies `operation` to each name given (stop, kill, rm, rmi, start), printing the name as typed
 * on success and the error on failure, and going on with the rest as the docker CLI does.
 * Fails with exit 1 at the end if any failed; `summary` names the failures, when docker does so.
 */
export async function forEachTarget(
  ctx: CliContext,
  names: string[],
  operation: (name: string) => Promise<string | void>,
  summary?: (failed: string[]) => string,
): Promise<void> {
  const failed: string[] = [];
  for (const name of names) {
    try {
      const output = await operation(name);
      ctx.stdout.write(`${output ?? name}\n`);
    } catch (err) {
      failed.push(name);
      ctx.stderr.write(`${describeError(err)}\n`);
    }
  }
  if (failed.length > 0) throw new CliExit(1, summary?.(failed));
}
