/**
 * The progress text dockerd puts beside progressDetail (moby's jsonmessage.JSONProgress.String for
 * a client without a terminal width): a 50-step bar and go-units sizes, "[==>    ]  1.05MB/10.5MB".
 */

/** go-units HumanSize: powers of 1000, four significant digits ("1.049MB", "512B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}

export function progressBar(current: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return `${humanSize(current).padStart(8)}`;
  let bar = '';
  if (current <= total) {
    const steps = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
    bar = `[${'='.repeat(steps)}>${' '.repeat(50 - steps)}] `;
  }
  return `${bar}${humanSize(current).padStart(8)}/${humanSize(total)}`;
}
