/** Byte counts the way Docker prints them (go-units): decimal for image sizes, binary for memory. */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** `docker images` SIZE: 1985589 → "1.99MB", 5200 → "5.2kB" (HumanSizeWithPrecision(size, 3)). */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, DECIMAL_UNITS, precision);
}

/** `docker info` Total Memory: 25276063744 → "23.54GiB" (BytesSize). */
export function binarySize(bytes: number): string {
  return scaled(bytes, 1024, BINARY_UNITS, 4);
}

function scaled(value: number, base: number, units: string[], precision: number): string {
  let unit = 0;
  while (value >= base && unit < units.length - 1) {
    value /= base;
    unit++;
  }
  return `${formatG(value, precision)}${units[unit]}`;
}

/** Go's `%.<precision>g`: shortest of fixed or exponent form, trailing zeros dropped. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const [mantissa, exponentText] = value.toExponential(precision - 1).split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${stripZeros(mantissa ?? '')}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
