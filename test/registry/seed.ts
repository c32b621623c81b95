/** Seeds a test registry with a five-platform busybox base built by ociasm and copied in by skopeo. */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { BUSYBOX_SOURCES, FIVE_PLATFORMS } from '../harness/inputs.js';
import { blobPath, must, ociasm, readLayoutIndex } from '../harness/util.js';

export interface SeededBase {
  ref: string;
  /** The base index digest in the registry. */
  digest: string;
  /** platform -> per-platform manifest digest. */
  manifests: Record<string, string>;
}

/**
 * Builds busybox:1.36 for five platforms, rewrites the index so arm64 has no
 * variant (as some indexes spell it), and `skopeo copy --all`s it to `host`.
 */
export async function seedBusybox(dir: string, host: string, repo = 'library/busybox:1.36'): Promise<SeededBase> {
  for (const [tag, src] of Object.entries(BUSYBOX_SOURCES)) {
    mkdirSync(path.join(dir, 'bb', tag), { recursive: true });
    copyFileSync(src, path.join(dir, 'bb', tag, 'busybox'));
    chmodSync(path.join(dir, 'bb', tag, 'busybox'), 0o755);
  }
  writeFileSync(path.join(dir, 'base.yaml'), `
sourceDateEpoch: 1700000000
images:
  - name: busybox
    tag: "1.36"
    platforms: [${FIVE_PLATFORMS.join(', ')}]
    files: [{ src: "bb/{{platformTag}}/", dest: /bin/ }]
    paths: [{ path: /bin/sh, type: symlink, target: busybox }]
    env: { BASE: busybox }
    cmd: [/bin/sh]
`);
  const layout = path.join(dir, 'base-oci');
  const r = await ociasm(['build', '-f', path.join(dir, 'base.yaml'), '-o', layout]);
  if (r.code !== 0) throw new Error(r.stderr);
  const top = readLayoutIndex(layout).manifests[0];
  const index = JSON.parse(readFileSync(blobPath(layout, top.digest), 'utf8'));
  for (const m of index.manifests) if (m.platform.architecture === 'arm64') delete m.platform.variant;
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(layout, digest), bytes);
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ ...top, digest, size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'seed' } }],
  }));
  await must('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:seed`, `docker://${host}/${repo}`]);
  const manifests: Record<string, string> = {};
  for (const m of index.manifests) manifests[[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')] = m.digest;
  return { ref: `${host}/${repo}`, digest, manifests };
}
