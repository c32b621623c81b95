/**
 * The JSON Schema of `ociasm.yaml` (draft 2020-12), generated from the one
 * schema (schema.ts). It describes the file as written (defaults are optional
 * keys). `npm run build` writes it to schema/ociasm.schema.json; a test checks
 * that the committed file is current.
 */
import * as z from 'zod';
import { BuildFileSchema } from './schema.js';

export function buildFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(BuildFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: 'ociasm build file (ociasm.yaml)',
    description: 'Images for many platforms assembled without a daemon. Reference: docs/buildfile.md',
    ...rest,
  };
}

export function buildFileJsonSchemaText(): string {
  return `${JSON.stringify(buildFileJsonSchema(), null, 2)}\n`;
}
