/**
 * SLSA v1 provenance (https://slsa.dev/spec/v1.0/provenance) as an in-toto
 * Statement v1, for one image: its index and every platform manifest are the
 * subjects. Deterministic: no clock, no host names, no environment values —
 * only the build file's digest, the args, the platforms, each base's resolved
 * digest, the toolchain commands with their environment variable *names*,
 * the source date epoch and, when the build file is in a git repository, the
 * commit.
 */
import { jsonBytes, isoTime } from '../image/assemble.js';
import type { Digest } from '../oci/types.js';

export const SLSA_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const BUILD_TYPE = 'https://ociasm.invalid/build/v1';

export interface ProvenanceInput {
  image: { name: string; ref: string; index: Digest; platforms: { platform: string; manifest: Digest; base?: { name: string; digest: string } }[] };
  buildFile: { path: string; sha256: string };
  args: Record<string, string>;
  epoch: number;
  /** Per platform, the toolchain command and the names of the variables it was given. */
  toolchain: { platform: string; run: string[]; envNames: string[] }[];
  git?: { commit: string; url?: string };
  tool: { name: string; version: string };
}

const hex = (d: string) => d.replace(/^sha256:/, '');

export function provenanceStatement(p: ProvenanceInput): Buffer {
  const bases = new Map<string, { uri: string; name: string; digest: { sha256: string }; annotations: { platform: string } }>();
  for (const pl of p.image.platforms) {
    if (!pl.base) continue;
    bases.set(`${pl.base.name}@${pl.base.digest}`, {
      uri: `oci:${pl.base.name}@${pl.base.digest}`, name: pl.base.name, digest: { sha256: hex(pl.base.digest) }, annotations: { platform: pl.platform },
    });
  }
  const resolvedDependencies: unknown[] = [...bases.values()];
  if (p.git) resolvedDependencies.push({ uri: p.git.url ?? 'git', digest: { gitCommit: p.git.commit } });
  const statement = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [
      { name: p.image.ref, digest: { sha256: hex(p.image.index) } },
      ...p.image.platforms.map((pl) => ({ name: `${p.image.ref} ${pl.platform}`, digest: { sha256: hex(pl.manifest) } })),
    ],
    predicateType: SLSA_PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          buildFile: { path: p.buildFile.path, digest: { sha256: p.buildFile.sha256 } },
          image: p.image.name,
          args: p.args,
          platforms: p.image.platforms.map((pl) => pl.platform),
        },
        internalParameters: {
          sourceDateEpoch: p.epoch,
          toolchain: p.toolchain.map((t) => ({ platform: t.platform, run: t.run, env: [...t.envNames].sort() })),
        },
        resolvedDependencies,
      },
      runDetails: {
        builder: { id: `https://ociasm.invalid/builder/${p.tool.name}@${p.tool.version}`, version: { [p.tool.name]: p.tool.version } },
        metadata: { invocationId: `${p.image.ref}@${p.image.index}`, startedOn: isoTime(p.epoch), finishedOn: isoTime(p.epoch) },
      },
    },
  };
  return jsonBytes(statement);
}
