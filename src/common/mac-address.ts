/** A 48-bit MAC address in any of Go's net.ParseMAC spellings, as lower-case colon-separated hex. */
export function parseMac(text: string): string | undefined {
  const groups = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(text)
    ? text.split(/[:-]/)
    : /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(text)
      ? text.split('.').flatMap((four) => [four.slice(0, 2), four.slice(2)])
      : undefined;
  return groups?.join(':').toLowerCase();
}
