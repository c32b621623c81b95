/** Index composition for `ociasm index`: the documented order, golden bytes, duplicates and replacement. */
import { describe, expect, it } from 'vitest';
import { composeIndex, entryFromConfig, mergeEntries } from '../../src/image/compose-index.js';
import type { Descriptor, Platform } from '../../src/oci/types.js';

const d = (n: number, platform?: Platform): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 100 + n,
  ...(platform ? { platform } : {}),
});
const p = (os: string, architecture: string, variant?: string): Platform => ({ os, architecture, ...(variant ? { variant } : {}) });

describe('composeIndex', () => {
  it('orders amd64, arm64/v8, arm/v7, arm/v6, arm/v5, then the rest by text, whatever the input order', () => {
    const entries = [
      d(1, p('linux', 'riscv64')), d(2, p('linux', 'arm', 'v5')), d(3, p('windows', 'amd64')), d(4, p('linux', 'arm64')),
      d(5, p('linux', 'arm', 'v6')), d(6, p('linux', '386')), d(7, p('linux', 'amd64')), d(8, p('linux', 'arm', 'v7')), d(9),
    ];
    const order = (list: Descriptor[]) => composeIndex(list).index.manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : 'none'));
    const want = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5', 'linux/386', 'linux/riscv64', 'windows/amd64', 'none'];
    expect(order(entries)).toEqual(want);
    expect(order([...entries].reverse())).toEqual(want);
    expect(composeIndex([...entries].reverse()).bytes.equals(composeIndex(entries).bytes)).toBe(true);
  });

  it('writes the golden bytes: no annotations, no time', () => {
    const { bytes } = composeIndex([d(2, p('linux', 'arm64', 'v8')), d(1, p('linux', 'amd64'))]);
    expect(bytes.toString()).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
      + `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${'1'.repeat(64)}","size":101,"platform":{"os":"linux","architecture":"amd64"}},`
      + `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${'2'.repeat(64)}","size":102,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`,
    );
  });

  it('refuses a platform twice for create, replaces it for append (arm64 with or without v8 is one platform)', () => {
    const groups = [{ label: 'a', entries: [d(1, p('linux', 'arm64'))] }, { label: 'b', entries: [d(2, p('linux', 'arm64', 'v8'))] }];
    expect(() => mergeEntries(groups, false)).toThrow(/linux\/arm64\/v8 is given twice: by a .* and by b/);
    expect(mergeEntries(groups, true).map((e) => e.digest)).toEqual([d(2).digest]);
    // The same entry from two sources is one entry.
    expect(mergeEntries([{ label: 'a', entries: [d(1, p('linux', 'amd64'))] }, { label: 'b', entries: [d(1, p('linux', 'amd64'))] }], false)).toHaveLength(1);
  });

  it('takes a manifest\'s platform from its config, and refuses a config without one', () => {
    const cfg = { architecture: 'arm', os: 'linux', variant: 'v7', rootfs: { type: 'layers' as const, diff_ids: [] } };
    expect(entryFromConfig(d(3), cfg, 'x').platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => entryFromConfig(d(3), { ...cfg, architecture: '' }, 'oci:x')).toThrow(/oci:x: its config names no os and architecture/);
  });
});
