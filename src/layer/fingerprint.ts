/**
 * A cheap fingerprint of everything that determines a layer's bytes, so a
 * rebuild with nothing changed can reuse the blob without reading or
 * compressing anything (docs/bench.md, "Layer cache").
 *
 * It covers, in tar order: every path, kind, mode, owner, xattr, symlink
 * target, device number and hardlink; for content, host files by
 * (dev, inode, size, mtime ns, ctime ns) — any write changes the ctime — and
 * spool content by the sha256 taken while spooling, in-memory content by its sha256. Plus the mtime, the tar writer's
 * version and the caller's salt (the gzip settings key).
 */
import { createHash, type Hash } from 'node:crypto';
import { statSync } from 'node:fs';
import { type ContentRef, type DirNode, type Inode, walkTree } from '../rootfs/tree.js';
import { TAR_OF_TREE_VERSION } from './tar-of-tree.js';

/** Bump when the fingerprint's own encoding changes. */
const FINGERPRINT_VERSION = 2;

function contentId(ref: ContentRef, size: number): string | undefined {
  if (ref.kind === 'bytes') return `bytes:${createHash('sha256').update(ref.data).digest('hex')}`;
  // Spooled base contents, and host files restored from a content-addressed cache, are known by digest.
  if (ref.kind === 'spool' || ref.sha256) return `sha256:${ref.sha256}:${size}`;
  const st = statSync(ref.path, { bigint: true, throwIfNoEntry: false });
  if (!st || !st.isFile() || st.size !== BigInt(size)) return undefined;
  return `host:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function meta(h: Hash, m: { mode: number; uid: number; gid: number; xattrs: Map<string, Buffer> }): void {
  h.update(`\0${m.mode} ${m.uid} ${m.gid}`);
  for (const [name, value] of m.xattrs) h.update(`\0x ${name}=${value.toString('hex')}`);
}

/**
 * The fingerprint (hex), or undefined when a host file cannot be identified
 * (vanished, not a regular file any more, or another size): then there is
 * no cache lookup and the tar step reports the problem.
 */
export function treeFingerprint(root: DirNode, mtime: number, salt: string): string | undefined {
  const h = createHash('sha256');
  h.update(`ociasm-layer-fingerprint/v${FINGERPRINT_VERSION} tar/v${TAR_OF_TREE_VERSION} ${salt} mtime=${mtime}`);
  meta(h, root);
  const firstName = new Map<Inode, string>();
  try {
    for (const { path, node } of walkTree(root)) {
      h.update(`\n${JSON.stringify(path)} ${node.kind}`);
      if (node.kind !== 'file') {
        meta(h, node);
        if (node.kind === 'symlink') h.update(`\0-> ${JSON.stringify(node.target)}`);
        if (node.kind === 'char' || node.kind === 'block') h.update(`\0dev ${node.devmajor},${node.devminor}`);
        continue;
      }
      const linkTo = node.inode.shared ? firstName.get(node.inode) : undefined;
      if (linkTo !== undefined) {
        h.update(`\0link ${JSON.stringify(linkTo)}`);
        continue;
      }
      if (node.inode.shared) firstName.set(node.inode, path);
      meta(h, node.inode);
      const id = contentId(node.inode.content, node.inode.size);
      if (id === undefined) return undefined;
      h.update(`\0${node.inode.size} ${id}`);
    }
  } catch {
    return undefined; // unreadable input: the tar step gives the real error
  }
  return h.digest('hex');
}
