import { describe, expect, it } from 'vitest';
import { baseCandidates, formatPlatform, parsePlatform, platformTag } from '../../src/codec/platform.js';

describe('platform codec', () => {
  it.each([
    ['linux/amd64', 'linux/amd64', 'amd64'],
    ['linux/x86_64', 'linux/amd64', 'amd64'],
    ['linux/amd64/v1', 'linux/amd64', 'amd64'],
    ['linux/arm64', 'linux/arm64/v8', 'arm64v8'],
    ['linux/arm64/v8', 'linux/arm64/v8', 'arm64v8'],
    ['linux/aarch64', 'linux/arm64/v8', 'arm64v8'],
    ['linux/arm', 'linux/arm/v7', 'arm32v7'],
    ['linux/arm/7', 'linux/arm/v7', 'arm32v7'],
    ['linux/arm/v6', 'linux/arm/v6', 'arm32v6'],
    ['linux/arm/v5', 'linux/arm/v5', 'arm32v5'],
    ['linux/386', 'linux/386', 'i386'],
    ['linux/ppc64le', 'linux/ppc64le', 'ppc64le'],
    ['linux/s390x', 'linux/s390x', 's390x'],
    ['linux/riscv64', 'linux/riscv64', 'riscv64'],
    ['Linux/ARM64', 'linux/arm64/v8', 'arm64v8'],
  ])('%s is %s (%s)', (input, canonical, tag) => {
    const p = parsePlatform(input);
    expect(formatPlatform(p)).toBe(canonical);
    expect(platformTag(p)).toBe(tag);
  });

  it.each(['linux', 'linux/sparc', 'plan9/amd64', 'linux/arm/v9', 'linux/amd64/v9', 'linux/386/v2', 'linux//v7', 'a/b/c/d'])(
    'rejects %s with a clear message',
    (input) => {
      expect(() => parsePlatform(input)).toThrow(/bad platform/);
    },
  );

  it('lists base candidates with the arm variant fallback only when allowed', () => {
    const names = (p: string, allow: boolean) => baseCandidates(parsePlatform(p), allow).map(formatPlatform);
    expect(names('linux/arm/v7', false)).toEqual(['linux/arm/v7']);
    expect(names('linux/arm/v7', true)).toEqual(['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(names('linux/arm/v6', true)).toEqual(['linux/arm/v6', 'linux/arm/v5']);
    expect(names('linux/arm/v5', true)).toEqual(['linux/arm/v5']);
    expect(names('linux/arm64', true)).toEqual(['linux/arm64/v8']);
  });
});
