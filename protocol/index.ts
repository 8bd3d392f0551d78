/**
 * The Trellis cloud wire format: topics, payload types and their JSON Schemas. The gateway and the
 * fleet service both import it; it imports only zod, and nothing else defines the format.
 */
export * from './payloads.ts';
export * from './topics.ts';
export * from './usage.ts';
export { jsonSchemas } from './jsonSchemas.ts';
