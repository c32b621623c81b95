/** Paths inside the image: absolute, normalized, and never above '/'. */
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
