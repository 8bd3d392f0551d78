// Writes docs/schemas/*.json from the wire format's zod types (protocol/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../protocol/index.ts';

const dir = join(import.meta.dirname, '..', 'docs', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(jsonSchemas())) writeFileSync(join(dir, name), text);
console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to ${dir}`);
