/** The build file (`ociasm.yaml`) as it is after validation. Names are part of the product. */

export interface FilesEntry {
  src: string;
  dest: string;
  preserveOwner: boolean;
}

export type PathType = 'directory' | 'file' | 'symlink';

export interface PathEntry {
  path: string;
  type: PathType;
  owner?: string;
  mode?: string;
  acl?: string;
  defaultAcl?: string;
  target?: string;
  content?: string;
}

/** `build:` — the user's toolchain, run on the host once per platform (docs/toolchain.md). */
export interface BuildStep {
  run: string[];
  dir?: string;
  env: Record<string, string>;
  /** Per-platform extras, keyed by the platform as written. */
  platformEnv: Record<string, Record<string, string>>;
  inputs: string[];
  /** Host path -> image path. */
  outputs: Record<string, string>;
}

/** `accounts:` — users and groups added to the base's /etc files (docs/squash.md#accounts). */
export interface AccountGroup {
  name: string;
  gid: number;
  members: string[];
}

export interface AccountUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  gecos: string;
  createHome: boolean;
}

export interface Accounts {
  groups: AccountGroup[];
  users: AccountUser[];
}

export interface ImageSpec {
  name: string;
  tag: string;
  base: string;
  /** An arm/v7 build may use an arm/v6 or v5 base image (and v6 a v5) when the exact variant is missing. */
  baseVariantFallback?: boolean;
  platforms: string[];
  files: FilesEntry[];
  paths: PathEntry[];
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  user?: string;
  workdir?: string;
  volumes: string[];
  ports: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  stopSignal?: string;
  accounts?: Accounts;
  /** Per-image `{{args.NAME}}` values (a JSON build list's `extra_args`), over the top-level ones. */
  args?: Record<string, string>;
  build?: BuildStep;
  /** The self-check command run on each platform's rootfs before tagging. */
  test?: string[];
  /** `push:` registry references (templated with {{name}}, {{tag}}) for `ociasm build --push` (docs/registries.md). */
  push?: string[];
  /** `platformTags:` a tag template per platform, e.g. "{{tag}}-{{platformTag}}", pushed beside each push ref. */
  platformTags?: string;
}

export interface BuildFile {
  /** Absolute path of the file it was read from (or a label for embedded input). */
  file: string;
  /** Folder against which relative `src` paths resolve. */
  dir: string;
  sourceDateEpoch?: number;
  /** `{{args.NAME}}` defaults; `--build-arg KEY=VAL` overrides them. */
  args?: Record<string, string>;
  /** `insecureRegistries:` hosts (host[:port]) reached over plain HTTP or unverified TLS. */
  insecureRegistries?: string[];
  images: ImageSpec[];
}
