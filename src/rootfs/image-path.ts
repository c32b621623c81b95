/**
 * Paths inside the image: absolute, normalized, and never above '/'.
 * `entryComponents` is the one gate every write into the tree passes
 * (rootfs/insert.ts; base layers check the same in base/apply-layer.ts): no
 * entry of any layer can have a '..' component or a NUL byte, whatever the
 * templates made of a path.
 */
import { OciasmError } from '../errors.js';

/**
 * Normalizes a path inside the image to '/a/b' form (a trailing '/' is kept
 * when `keepTrailingSlash`). A '..' that would climb above '/' is an error.
 */
export function imagePath(p: string, where: string, keepTrailingSlash = false): string {
  if (p.includes('\0')) throw new OciasmError('PATH_ESCAPES', `${where}: path contains a NUL byte`);
  const out: string[] = [];
  for (const comp of p.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      if (out.length === 0) throw new OciasmError('PATH_ESCAPES', `${where}: "${p}" escapes /`);
      out.pop();
      continue;
    }
    out.push(comp);
  }
  const norm = '/' + out.join('/');
  return keepTrailingSlash && p.endsWith('/') && norm !== '/' ? norm + '/' : norm;
}

/** The components of a path about to become a tree entry; '..' or NUL is PATH_ESCAPES. */
export function entryComponents(p: string, where: string): string[] {
  const comps = p.split('/').filter((c) => c !== '' && c !== '.');
  if (p.includes('\0')) throw new OciasmError('PATH_ESCAPES', `${where}: path contains a NUL byte`);
  if (comps.includes('..')) throw new OciasmError('PATH_ESCAPES', `${where}: "${p}" has a ".." component; no entry of a layer may`);
  return comps;
}
