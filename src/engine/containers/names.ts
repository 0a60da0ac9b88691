import { randomInt } from 'node:crypto';
import { invalidParameter } from '../../common/errors.js';

// Docker-style generated names ("admiring_turing"): an adjective and a notable scientist or engineer.
const ADJECTIVES = [
  'admiring', 'affectionate', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'charming', 'clever',
  'compassionate', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic',
  'elegant', 'epic', 'exciting', 'fervent', 'focused', 'friendly', 'funny', 'gallant', 'gifted',
  'gracious', 'happy', 'hopeful', 'infallible', 'inspiring', 'jolly', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic',
  'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'relaxed', 'reverent', 'romantic',
  'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant',
  'vigilant', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bell', 'bhabha',
  'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brown', 'carson', 'cerf', 'chandrasekhar',
  'clarke', 'curie', 'darwin', 'dijkstra', 'einstein', 'elion', 'engelbart', 'euclid', 'euler',
  'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall',
  'hamilton', 'hawking', 'heisenberg', 'hopper', 'hypatia', 'jackson', 'johnson', 'kalam', 'kepler',
  'khorana', 'knuth', 'kowalevski', 'lamarr', 'lamport', 'leakey', 'lovelace', 'lumiere', 'mahavira',
  'mayer', 'mccarthy', 'meitner', 'mendel', 'mirzakhani', 'morse', 'napier', 'newton', 'noether',
  'pascal', 'pasteur', 'perlman', 'pike', 'poincare', 'ramanujan', 'ritchie', 'shannon', 'shockley',
  'sinoussi', 'stonebraker', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing', 'villani', 'wozniak',
  'wright', 'yalow', 'yonath',
];

export function generateName(attempt: number): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  // Like moby, append a digit after the first clash so generation always terminates.
  return attempt > 0 ? `${name}${randomInt(10)}` : name;
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the name with Docker's leading slash, or throws Docker's message for a bad one. */
export function normaliseName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw invalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}
