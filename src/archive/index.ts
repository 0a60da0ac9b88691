export { extractTar } from './extract.js';
export { decompress } from './decompress.js';
export type { WhiteoutMode } from './whiteouts.js';
