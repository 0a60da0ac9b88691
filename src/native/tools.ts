import { fileURLToPath } from 'node:url';

/** berthd's native helper programs (src/native/tools/), built by node-gyp beside the addon. */
export type NativeTool = 'berth-untar' | 'berth-pack';

// This file runs from dist/src/native/, three levels below the repository root.
const release = fileURLToPath(new URL('../../../build/Release/', import.meta.url));

export function nativeToolPath(tool: NativeTool): string {
  return release + tool;
}
