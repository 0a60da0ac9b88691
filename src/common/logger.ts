/** Structured logs: one JSON object per line on stderr, so journald or a file keeps them greppable. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

interface LoggedError {
  message: string;
  code?: string;
  stack?: string;
  cause?: LoggedError | string;
}

/** Causes are followed this deep; a cycle or a very long chain must not stop the logger. */
const MAX_CAUSES = 8;

/** An error with what a post-mortem needs: its stack, errno code and the chain of causes. */
function loggedError(err: Error, depth = 0): LoggedError {
  const out: LoggedError = { message: err.message };
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined) out.code = String(code);
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) {
    out.cause = err.cause instanceof Error ? loggedError(err.cause, depth + 1) : String(err.cause);
  }
  return out;
}

export function createLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[minLevel]) return;
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields ?? {})) extra[k] = v instanceof Error ? loggedError(v) : v;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }) + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
