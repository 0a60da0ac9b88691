/**
 * The environment of berthd's own Node helpers (extract, pack, copy). NODE_EXTRA_CA_CERTS is left
 * out: node reads and parses that certificate file before running any code, some 90 ms of CPU per
 * start where it is set (as on Debian machines that point it at the system bundle), and a helper
 * never speaks TLS. A pull or a build step starts several helpers on its critical path.
 */
export function helperEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return { ...env, ...extra };
}
