// Writes schema/ociasm.schema.json from the compiled schema (dist/). Run by `npm run build`.
import { writeFileSync } from 'node:fs';
import { buildFileJsonSchemaText } from '../dist/src/buildfile/json-schema.js';

const out = new URL('../schema/ociasm.schema.json', import.meta.url);
writeFileSync(out, buildFileJsonSchemaText());
