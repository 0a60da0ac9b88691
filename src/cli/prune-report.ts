/** What the docker CLI prints after a prune: the deleted objects, then the space reclaimed. */
import type { CliContext } from './context.js';
import { humanSize } from './format/size.js';

/** "Deleted Images:\nuntagged: …\ndeleted: …\n" (empty when nothing went), as the docker CLI's image prune. */
export function deletedImagesText(deleted: Array<{ Untagged?: string; Deleted?: string }> | null | undefined): string {
  if (!deleted || deleted.length === 0) return '';
  const lines = deleted.map((item) => (item.Untagged !== undefined ? `untagged: ${item.Untagged}` : `deleted: ${item.Deleted}`));
  return `Deleted Images:\n${lines.join('\n')}\n`;
}

/** "TITLE:\nname\nname\n", or nothing when the list is empty. */
export function deletedListText(title: string, names: string[] | null | undefined): string {
  return names && names.length > 0 ? `${title}:\n${names.join('\n')}\n` : '';
}

/** Each non-empty section followed by a blank line, then the total (go-units HumanSize). */
export function writePruneReport(ctx: CliContext, sections: string[], spaceReclaimed: number): void {
  for (const section of sections) if (section !== '') ctx.stdout.write(`${section}\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(spaceReclaimed, 4)}\n`);
}
