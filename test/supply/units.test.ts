/**
 * Golden vectors and bad input for the supply-chain codecs: DSSE's PAE
 * (the example in the DSSE protocol document), cosign's payload bytes (the
 * specification's key order), the referrers tag schema, purls, the package
 * database parsers, and Go build info on truncated or foreign binaries;
 * keys of the wrong kind or with tampered scrypt parameters are refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosignSignatureTag, fallbackTag } from '../../src/supply/artifact.js';
import { simpleSigningPayload } from '../../src/supply/cosign.js';
import { pae } from '../../src/supply/dsse.js';
import { readGoBuildInfo } from '../../src/supply/go-buildinfo.js';
import { decryptCosignKey, loadSigningKey } from '../../src/supply/keys.js';
import { golangPurl, osPackagePurl, parseApkInstalled, parseDpkgStatus } from '../../src/supply/pkgdb.js';
import { cosignEncryptedPem } from '../harness/cosign-verify.js';
import { must, tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-supply-unit-');
afterAll(() => tmp.cleanup());
const D = `sha256:${'ab'.repeat(32)}` as const;

describe('supply codecs', () => {
  it('PAE matches the DSSE protocol example', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it("writes cosign's simple-signing payload byte for byte", () => {
    expect(simpleSigningPayload('127.0.0.1:5000/app', D).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(fallbackTag(D)).toBe(`sha256-${'ab'.repeat(32)}`);
    expect(cosignSignatureTag(D)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
  });

  it('parses dpkg status (installed only, epochs, sources) and apk databases into purls', () => {
    const dpkg = parseDpkgStatus([
      'Package: libc6', 'Status: install ok installed', 'Architecture: amd64', 'Source: glibc', 'Version: 2.36-9+deb12u4', 'Description: x', ' more', '',
      'Package: gone', 'Status: deinstall ok config-files', 'Version: 1.0', '',
      'Package: perl', 'Status: install ok installed', 'Version: 1:5.36.0-7', 'Architecture: amd64', '',
    ].join('\n'));
    expect(dpkg.map((p) => osPackagePurl(p, { id: 'debian', versionId: '12' }))).toEqual([
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc',
      'pkg:deb/debian/perl@1%3A5.36.0-7?arch=amd64&distro=debian-12',
    ]);
    const apk = parseApkInstalled('P:zlib\nV:1.3-r0\nA:aarch64\n\nnot a field\nP:\n');
    expect(apk.map((p) => osPackagePurl(p, { id: 'alpine', versionId: '3.19.0' }))).toEqual(['pkg:apk/alpine/zlib@1.3-r0?arch=aarch64&distro=alpine-3.19.0']);
    expect(golangPurl('github.com/Foo/bar', 'v1.2.3+incompatible')).toBe('pkg:golang/github.com/Foo/bar@v1.2.3%2Bincompatible');
    expect(golangPurl('example.com/app', '(devel)')).toBe('pkg:golang/example.com/app');
  });

  it('answers undefined for non-Go, truncated and garbage ELF input instead of throwing', async () => {
    expect(readGoBuildInfo(readFileSync('/bin/true'))).toBeUndefined(); // a C binary
    expect(readGoBuildInfo(Buffer.from('\x7fELF\x02\x01\x01'))).toBeUndefined();
    const go = path.join(tmp.dir, 'main.go');
    writeFileSync(go, 'package main\nfunc main() {}\n');
    const bin = path.join(tmp.dir, 'm');
    await must('go', ['build', '-o', bin, go], { env: { ...process.env, GOFLAGS: '', CGO_ENABLED: '0', GOCACHE: path.join(tmp.dir, 'gocache') } });
    const whole = readFileSync(bin);
    expect(readGoBuildInfo(whole)?.goVersion).toMatch(/^go1\./);
    for (const cut of [64, 4096, whole.length >> 1]) expect(() => readGoBuildInfo(whole.subarray(0, cut))).not.toThrow();
    const garbage = Buffer.from(whole);
    for (let i = 64; i < garbage.length; i += 97) garbage[i] = 0xff;
    expect(() => readGoBuildInfo(garbage)).not.toThrow();
  });

  it('refuses an RSA key, a P-384 key, tampered scrypt parameters and a wrong password with stable codes', async () => {
    const rsa = path.join(tmp.dir, 'rsa.key');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(loadSigningKey(rsa, {})).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('only ECDSA P-256') });
    const p384 = path.join(tmp.dir, 'p384.key');
    writeFileSync(p384, generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(loadSigningKey(p384, {})).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('secp384r1') });
    const der = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = cosignEncryptedPem(der, 'pw');
    const json = Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');
    const tampered = JSON.parse(json.toString());
    tampered.kdf.params.N = 1 << 30;
    expect(() => decryptCosignKey(Buffer.from(JSON.stringify(tampered)), 'pw', 'k')).toThrow(/unexpected scrypt parameters/);
    expect(() => decryptCosignKey(json, 'wrong', 'k')).toThrow(expect.objectContaining({ code: 'KEY_PASSWORD' }));
    expect(decryptCosignKey(json, 'pw', 'k').equals(der)).toBe(true);
    const missing = path.join(tmp.dir, 'nope.key');
    await expect(loadSigningKey(missing, {})).rejects.toMatchObject({ code: 'IO', message: expect.stringContaining(missing) });
  });
});
