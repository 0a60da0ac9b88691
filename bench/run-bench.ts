/**
 * Figures, not assertions. Each section measures one area against one shared berthd and leaves it
 * as it found it; `npm run bench -- NAME…` runs only the named sections.
 */
import { startDaemon, type TestDaemon } from '../test/helpers/berthd.js';
import { containersSection } from './sections/containers.js';
import { volumesSection } from './sections/volumes.js';
import { otherEnginesSection } from './sections/other-engines.js';
import { networksSection } from './sections/networks.js';
import { imagesSection } from './sections/images.js';
import { imageTransferSection } from './sections/image-transfer.js';
import { distributionSection } from './sections/distribution.js';
import { buildSection } from './sections/build.js';

type Section = (daemon: TestDaemon) => Promise<void>;

/** In the order they run. */
const SECTIONS: ReadonlyMap<string, Section> = new Map<string, Section>([
  ['containers', containersSection],
  ['networks', networksSection],
  ['images', imagesSection],
  ['volumes', volumesSection],
  ['distribution', distributionSection],
  ['build', buildSection],
  ['other-engines', otherEnginesSection],
  ['image-transfer', imageTransferSection],
]);

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SECTIONS.has(name));
if (unknown.length > 0) {
  console.error(`unknown bench section(s): ${unknown.join(', ')}; known: ${[...SECTIONS.keys()].join(', ')}`);
  process.exit(2);
}

const daemon = await startDaemon();
try {
  await daemon.berth(['image', 'busybox']);
  for (const [name, section] of SECTIONS) {
    if (wanted.length === 0 || wanted.includes(name)) await section(daemon);
  }
} finally {
  await daemon.stop();
}
