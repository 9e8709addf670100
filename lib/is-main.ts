// True when this module is the script node was started with.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return !!entry && moduleUrl === pathToFileURL(path.resolve(entry)).href;
}
