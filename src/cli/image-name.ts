/**
 * Splits a reference as typed into the `fromImage`/`tag` pair of a pull. Normalising the name
 * (docker.io/library/...) is the daemon's job; the CLI only finds where the tag begins.
 */
export function splitImageTag(reference: string): { name: string; tag?: string } {
  if (reference.includes('@')) return { name: reference };
  const colon = reference.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port (localhost:5000/app), not a tag.
  if (colon === -1 || colon < reference.lastIndexOf('/')) return { name: reference, tag: 'latest' };
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}
