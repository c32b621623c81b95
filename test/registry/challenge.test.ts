import { describe, expect, it } from 'vitest';
import { challengeScopes, mergeScopes, parseChallenges, scopesCover } from '../../src/registry/challenge.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter } from '../../src/registry/retry.js';
import { nextOffset } from '../../src/registry/upload.js';

describe('WWW-Authenticate', () => {
  it('parses Docker Hub style Bearer challenges', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } });
    expect(challengeScopes(c!)).toEqual(['repository:library/busybox:pull']);
  });
  it('parses Basic, several challenges, escapes and unquoted values', () => {
    expect(parseChallenges('Basic realm="a \\"b\\""')).toEqual([{ scheme: 'basic', params: { realm: 'a "b"' } }]);
    expect(parseChallenges('Basic realm=x, Bearer realm="r",error=insufficient_scope').map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parseChallenges(undefined)).toEqual([]);
  });
  it('merges and compares scopes', () => {
    expect(mergeScopes(['repository:a:push', 'repository:a:pull', 'repository:b:pull'])).toEqual(['repository:a:pull,push', 'repository:b:pull']);
    expect(scopesCover(['repository:a:pull,push'], ['repository:a:pull'])).toBe(true);
    expect(scopesCover(['repository:a:pull'], ['repository:a:pull,push'])).toBe(false);
    expect(scopesCover(['repository:a:*'], ['repository:a:pull,push'])).toBe(true);
  });
});

describe('retry policy', () => {
  it('retries 408, 429 and 5xx but not 501/505 or 4xx', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 501, 505].some(isRetryableStatus)).toBe(false);
  });
  it('reads Retry-After as seconds or a date, and caps it', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5, 600_000)).toBe(DEFAULT_RETRY.maxRetryAfterMs);
  });
  it('backs off exponentially with jitter inside [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0)).toBe(125);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 1)).toBe(1000);
    expect(backoffDelay(20, DEFAULT_RETRY, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs);
  });
  it('reads an upload Range as the next offset', () => {
    expect(nextOffset('0-8191')).toBe(8192);
    expect(nextOffset('0-0')).toBe(0);
    expect(nextOffset(undefined)).toBeUndefined();
  });
});
