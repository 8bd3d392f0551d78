import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** This trellis-fleet's version, from package.json (found from the source tree or from dist/). */
export const FLEET_VERSION: string = (() => {
  for (const up of ['..', '../..']) {
    const file = join(import.meta.dirname, up, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
})();
