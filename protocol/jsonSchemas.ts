import * as z from 'zod';
import { TOPIC_SCHEMAS } from './payloads.ts';

/** The JSON Schema documents, file name -> content. */
export function jsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [topic, schema] of Object.entries(TOPIC_SCHEMAS)) {
    const name = topic.replace(/^p\/<provider>\//, '').split('/')[0] as string;
    const doc = {
      $id: `https://trellis.invalid/schemas/v1/${name}.json`,
      title: `trellis/v1/<gatewayId>/${topic}`,
      ...z.toJSONSchema(schema, { io: 'output' }),
    };
    out[`${name}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}
