/**
 * Normalizes a path read from a tar header: strips leading './' and '/' and
 * trailing '/'. Everything else ('..', '//' inside) is kept verbatim; callers
 * validate. The archive root ('.', './', '/') becomes ''.
 */
export function normalizeTarPath(path: string): string {
  let p = path;
  for (;;) {
    if (p.startsWith('/')) p = p.slice(1);
    else if (p.startsWith('./')) p = p.slice(2);
    else break;
  }
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p === '.' ? '' : p;
}
