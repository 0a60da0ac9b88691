import type { CliContext } from './context.js';

/**
 * The docker CLI's confirmation prompt (prune and the like): the question with " [y/N] " on
 * stdout, then one line read from stdin; only "y" or "Y" (spaces aside) agrees, and the end of
 * stdin is a no.
 */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(`${question} [y/N] `);
  const answer = await readLine(ctx.stdin);
  return answer.trim().toLowerCase() === 'y';
}

function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end !== -1) done(text.slice(0, end));
    };
    const onEnd = () => done(text);
    const done = (line: string) => {
      stdin.off('data', onData).off('end', onEnd).off('error', reject);
      stdin.pause();
      resolve(line);
    };
    stdin.on('data', onData).once('end', onEnd).once('error', reject);
  });
}
