/**
 * Writes a rootfs tree to a host folder without root, for the self-check:
 * directories, regular files (with their content from wherever the tree
 * keeps it), symlinks verbatim and hardlinks. Modes are applied; directories
 * keep at least u+rwx so the check can run and the folder can be removed.
 * Owners, xattrs, device nodes and fifos need root or mean nothing here and
 * are left out.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ioError } from '../errors.js';
import { type ContentRef, type DirNode, type Inode, walkTree } from '../rootfs/tree.js';

export interface MaterialiseStats {
  files: number;
  skipped: number;
}

async function writeContent(ref: ContentRef, size: number, dest: string): Promise<void> {
  if (ref.kind === 'bytes') return writeFile(dest, ref.data, { flag: 'wx' });
  if (size === 0) return writeFile(dest, '', { flag: 'wx' });
  const start = ref.kind === 'spool' ? ref.offset : 0;
  await pipeline(createReadStream(ref.path, { start, end: start + size - 1 }), createWriteStream(dest, { flags: 'wx' }));
}

export async function materialise(root: DirNode, dir: string): Promise<MaterialiseStats> {
  const stats: MaterialiseStats = { files: 0, skipped: 0 };
  const firstName = new Map<Inode, string>();
  const dirs: [string, number][] = [[dir, root.mode]];
  const files: [string, number][] = [];
  await mkdir(dir, { recursive: true });
  for (const { path: rel, node } of walkTree(root)) {
    const p = path.join(dir, rel);
    try {
      switch (node.kind) {
        case 'directory':
          await mkdir(p);
          dirs.push([p, node.mode]);
          break;
        case 'file': {
          const first = firstName.get(node.inode);
          if (first) await link(first, p);
          else {
            await writeContent(node.inode.content, node.inode.size, p);
            firstName.set(node.inode, p);
            files.push([p, node.inode.mode]);
          }
          stats.files++;
          break;
        }
        case 'symlink':
          await symlink(node.target, p);
          break;
        default:
          stats.skipped++;
      }
    } catch (e) {
      throw ioError('cannot write the self-check rootfs at', p, e);
    }
  }
  for (const [p, mode] of files) await chmod(p, mode);
  for (const [p, mode] of dirs.reverse()) await chmod(p, mode | 0o700);
  return stats;
}
