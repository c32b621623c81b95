/**
 * The build file's types, as validation returns them. They are inferred from
 * the one schema (schema.ts, accounts-spec.ts): change the schema, not this file.
 */
export type { AccountGroup, AccountUser, Accounts } from './accounts-spec.js';
export type { BuildFile, BuildStep, FilesEntry, ImageSpec, PathEntry, PathType } from './schema.js';
