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

export interface ImageSpec {
  name: string;
  tag: string;
  base: string;
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
}

export interface BuildFile {
  /** Absolute path of the file it was read from (or a label for embedded input). */
  file: string;
  /** Folder against which relative `src` paths resolve. */
  dir: string;
  sourceDateEpoch?: number;
  images: ImageSpec[];
}
