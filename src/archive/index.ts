export { extractTar, type ExtractOptions as ExtractTarOptions, type Extracted, type GrowingFile } from './extract.js';
export { compressionOf, decompress, decompressed, isGzip, type Compression } from './decompress.js';
export type { WhiteoutMode } from './whiteouts.js';
export { packDiff, packDiffToFile, type LayerDiffEntry } from './pack.js';
export type { DiffEntry } from './pack-entries.js';
export { archivePath, exportRoot, extractArchive, statPath, type ContainerRoot, type ExtractOptions } from './copy.js';
export { encodePathStat, type PathStat } from './path-stat.js';
