// Writes docs/schemas/*.json from the zod types of the cloud payloads (gateway/cloud/payloads.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../gateway/cloud/payloads.ts';

const dir = join(import.meta.dirname, '..', 'docs', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(jsonSchemas())) writeFileSync(join(dir, name), text);
console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to ${dir}`);
