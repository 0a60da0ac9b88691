import type { CliContext } from './context.js';

/**
 * The docker CLI's prompt before a prune: the warning, then " [y/N] " on stdout, and one line of
 * stdin; only "y" or "Y" goes on. Stdin at its end answers no.
 */
export async function confirm(ctx: CliContext, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let line = '';
    const stdin = ctx.stdin;
    const done = () => {
      stdin.off('data', onData).off('end', done).off('error', done);
      stdin.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer) => {
      line += chunk.toString('utf8');
      if (line.includes('\n')) done();
    };
    stdin.on('data', onData).once('end', done).once('error', done);
  });
  return ['y', 'Y'].includes(answer.split('\n')[0]!.trim());
}
