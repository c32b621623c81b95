import { describe, expect, it } from 'vitest';
import { apiHost, formatReference, isLoopback, manifestReference, parseReference } from '../../src/codec/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('reference codec', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['skycoin/skycoin:0.27', 'docker.io/skycoin/skycoin:0.27'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/x/y:1.0', 'localhost:5000/x/y:1.0'],
    ['127.0.0.1:5000/a/b/c', '127.0.0.1:5000/a/b/c:latest'],
    ['[::1]:5000/x:2', '[::1]:5000/x:2'],
    ['ghcr.io/o/r', 'ghcr.io/o/r:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    [`localhost:5000/x@${D}`, `localhost:5000/x@${D}`],
    ['a__b/c-d--e.f:T_1.x-y', 'docker.io/a__b/c-d--e.f:T_1.x-y'],
  ])('%s is %s', (input, full) => {
    expect(formatReference(parseReference(input))).toBe(full);
  });

  it('splits host, repository, tag and digest', () => {
    expect(parseReference(`localhost:5000/x/y:1.0@${D}`)).toEqual({ registry: 'localhost:5000', repository: 'x/y', tag: '1.0', digest: D });
    expect(manifestReference(parseReference(`x:1@${D}`))).toBe(D);
    expect(manifestReference(parseReference('x:1'))).toBe('1');
    expect(parseReference('x', { defaultTag: false }).tag).toBeUndefined();
  });

  it('serves docker.io at registry-1.docker.io', () => {
    expect(apiHost(parseReference('busybox').registry)).toBe('registry-1.docker.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });

  it.each([
    ['localhost', true], ['localhost:5000', true], ['127.0.0.1:5000', true], ['127.9.8.7', true], ['[::1]:5000', true],
    ['10.0.0.1:5000', false], ['example.com', false], ['docker.io', false],
  ])('loopback %s is %s', (host, loop) => expect(isLoopback(host)).toBe(loop));

  it.each([
    ['', /empty/], ['Busybox', /lowercase/], ['x:', /not a valid tag/], ['x@sha256:abc', /sha256 digest/],
    ['x@md5:' + 'a'.repeat(32), /sha256 digest/], ['a//b', /repository component/], ['-a', /repository component/],
    ['x:' + 't'.repeat(129), /not a valid tag/], ['a/' + 'b'.repeat(260), /255/], ['local_host:5000/x', /registry host/],
  ])('rejects %j', (input, msg) => {
    expect(() => parseReference(input)).toThrow(msg);
  });
});
