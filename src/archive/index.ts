export { extractTar } from './extract.js';
export { decompress, isGzip } from './decompress.js';
export type { WhiteoutMode } from './whiteouts.js';
export { packDiff, type DiffEntry } from './pack.js';
