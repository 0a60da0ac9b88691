import { spawn } from 'node:child_process';

/**
 * Runs a command on a pseudo-terminal (util-linux `script`), types `input` into it, and returns
 * what the terminal showed and the exit code. Stdin stays open until the command ends, so
 * `script` never sends the stray byte it writes at stdin EOF. With `ready`, typing starts only once
 * the terminal shows it (a shell's prompt), so that a slow start on a loaded machine does not
 * take keystrokes meant for the program for its own.
 */
export function runOnPty(
  command: string,
  env: NodeJS.ProcessEnv,
  input: string[] = [],
  delayMs = 300,
  ready?: RegExp,
): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let timers: NodeJS.Timeout[] = [];
    const type = () => (timers = input.map((text, i) => setTimeout(() => child.stdin.write(text), delayMs * (i + 1))));
    const seen = (d: string) => {
      output += d;
      if (ready && timers.length === 0 && ready.test(output)) type();
    };
    child.stdout.setEncoding('utf8').on('data', seen);
    child.stderr.setEncoding('utf8').on('data', seen);
    if (!ready) type();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      timers.forEach(clearTimeout);
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ output, code: code ?? -1 });
    });
  });
}
