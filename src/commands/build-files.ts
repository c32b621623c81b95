/**
 * `--metadata-file` and `--iidfile`, as buildx writes them (written atomically,
 * after the build, and after the push when --push was given). Rules:
 * - the metadata file is a JSON object keyed by image ref (`name:tag`), as
 *   `docker buildx bake` keys it by target, each value with buildx's keys:
 *   `containerimage.digest` (the index), `containerimage.descriptor`,
 *   `image.name` (the layout ref and every pushed reference, comma-separated)
 *   and, for a one-platform image, `containerimage.config.digest`;
 * - the iid file holds each image's index digest, one line per image in build order
 *   (buildx writes one digest for its one image).
 */
import { writeFileAtomic } from '../cas/atomic-file.js';
import type { BuildResult } from '../pipeline/build.js';

export function buildMetadata(r: BuildResult): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const img of r.images) {
    const pushed = (r.pushed?.refs ?? []).filter((p) => p.digest === img.index.digest).map((p) => p.ref);
    out[img.ref] = {
      'containerimage.digest': img.index.digest,
      'containerimage.descriptor': { mediaType: img.index.mediaType, digest: img.index.digest, size: img.index.size },
      'image.name': [img.ref, ...pushed].join(','),
      ...(img.platforms.length === 1 ? { 'containerimage.config.digest': img.platforms[0]!.config.digest } : {}),
    };
  }
  return out;
}

export async function writeBuildFiles(r: BuildResult, files: { metadataFile?: string; iidFile?: string }): Promise<void> {
  if (files.metadataFile) await writeFileAtomic(files.metadataFile, JSON.stringify(buildMetadata(r), null, 2) + '\n', 'cannot write the metadata file');
  if (files.iidFile) await writeFileAtomic(files.iidFile, r.images.map((i) => i.index.digest).join('\n') + '\n', 'cannot write the iid file');
}
