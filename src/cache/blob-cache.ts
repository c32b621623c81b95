/**
 * The content-addressed blob cache shared between builds: an OCI image layout
 * without refs (`--cache-dir`, default `<build cache>/registry`). Registry
 * bases are copied into it through the one copy (src/base/transport-source.ts),
 * every blob checked against its digest while written, nothing kept from a
 * download whose digest does not match.
 */
import { LayoutStore } from '../cas/layout-store.js';

export function openBlobCache(dir: string): Promise<LayoutStore> {
  return LayoutStore.open(dir, true);
}
