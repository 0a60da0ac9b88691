import { spawn } from 'node:child_process';

/**
 * Runs a command on a pseudo-terminal (util-linux `script`), types `input` into it, and returns
 * what the terminal showed and the exit code. Stdin stays open until the command ends, so
 * `script` never sends the stray byte it writes at stdin EOF.
 */
export function runOnPty(command: string, env: NodeJS.ProcessEnv, input: string[] = [], delayMs = 300): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
    const timers = input.map((text, i) => setTimeout(() => child.stdin.write(text), delayMs * (i + 1)));
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
