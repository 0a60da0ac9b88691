/**
 * JSON as the docker CLI prints it: 4-space indentation and Go's HTML-safe escaping of <, > and &
 * (those characters can only occur inside strings, so replacing them everywhere is safe).
 */
export function dockerJson(value: unknown): string {
  return JSON.stringify(value, null, 4)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}
