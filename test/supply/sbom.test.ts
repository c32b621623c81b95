/**
 * The SBOM against tools that are not ours: a Go program with a replace'd
 * module dependency cross-compiled by the build step for amd64 and arm/v7,
 * the host's real dpkg status database and an Alpine installed db in the
 * image. The Go modules and build settings must equal what `go version -m`
 * prints for the extracted binaries; the Debian packages what `dpkg-query`
 * reads from the extracted layer; every regular file GNU tar extracts is
 * listed with its SHA-256. Two builds give byte-identical SBOMs, and the
 * image digests equal those of a build without --sbom.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPath, must, ociasm, readBlobJson, readLayoutIndex, refDescriptor, ROOT, tempDir } from '../harness/util.js';
import { builderEnv, extractLayer } from '../builder/helpers.js';

const tmp = tempDir('ociasm-sbom-');
const j = (...p: string[]) => path.join(tmp.dir, ...p);
const env = builderEnv(j('cache'), { GOPROXY: 'off' });
const PLATFORMS = ['linux/amd64', 'linux/arm/v7'];

const APK_DB = `C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl

C:Q1def=
P:busybox
V:1.36.1-r5
A:x86_64
L:GPL-2.0-only
`;

const BUILD_FILE = `
sourceDateEpoch: 1700000000
images:
  - name: app
    tag: "1.0"
    platforms: [${PLATFORMS.join(', ')}]
    build:
      run: [go, build, -trimpath, -buildvcs=false, -o, "{{out}}/app", .]
      dir: ./src/app
      env: { CGO_ENABLED: "0", GOOS: "{{os}}", GOARCH: "{{goarch}}", GOARM: "{{goarm}}", GOFLAGS: "-mod=mod", GOPROXY: "off" }
      inputs: ["src/**"]
      outputs: { "{{out}}/app": /usr/bin/app }
    files:
      - { src: status, dest: /var/lib/dpkg/status }
      - { src: installed, dest: /lib/apk/db/installed }
    paths:
      - { path: /etc/os-release, type: file, content: "ID=debian\\nVERSION_ID=\\"12\\"\\n" }
    entrypoint: [/usr/bin/app]
`;

interface Built { index: string; platforms: Record<string, string> }
let first: Built;
let sbomDigests: Record<string, string>;

function built(out: any): Built {
  const img = out.images[0];
  return { index: img.index.digest, platforms: Object.fromEntries(img.platforms.map((p: any) => [p.platform, p.manifest.digest])) };
}

/** The SPDX documents attached in a layout, by the platform manifest they describe (read from the layout's files directly). */
function attachedSboms(layout: string): Record<string, { digest: string; doc: any; bytes: Buffer }> {
  const out: Record<string, { digest: string; doc: any; bytes: Buffer }> = {};
  for (const d of readLayoutIndex(layout).manifests) {
    if (d.artifactType !== 'application/spdx+json') continue;
    const m = readBlobJson(layout, d.digest);
    expect(m.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
    const bytes = readFileSync(blobPath(layout, m.layers[0].digest));
    out[m.subject.digest] = { digest: d.digest, doc: JSON.parse(bytes.toString('utf8')), bytes };
  }
  return out;
}

beforeAll(async () => {
  const repo = j('repo');
  cpSync(path.join(ROOT, 'fixtures', 'go-mod-dep'), path.join(repo, 'src'), { recursive: true });
  cpSync('/var/lib/dpkg/status', path.join(repo, 'status'));
  writeFileSync(path.join(repo, 'installed'), APK_DB);
  writeFileSync(path.join(repo, 'ociasm.yaml'), BUILD_FILE);
  const r = await ociasm(['build', '-f', path.join(repo, 'ociasm.yaml'), '-o', j('oci'), '--extract', j('bin'), '--sbom', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  first = built(JSON.parse(r.stdout));
  sbomDigests = Object.fromEntries(Object.entries(attachedSboms(j('oci'))).map(([k, v]) => [k, v.digest]));
});
afterAll(() => tmp.cleanup());

describe('SBOM', () => {
  it('attaches one SPDX document per platform manifest, as an OCI 1.1 artifact', () => {
    expect(Object.keys(sbomDigests).sort()).toEqual(Object.values(first.platforms).sort());
  });

  it('lists the Go modules and build settings exactly as `go version -m` prints them', async () => {
    const sboms = attachedSboms(j('oci'));
    for (const platform of PLATFORMS) {
      const tag = platform === 'linux/amd64' ? 'amd64' : 'arm32v7';
      const bin = j('bin', tag, 'app');
      const lines = (await must('go', ['version', '-m', bin])).split('\n').slice(1).map((l) => l.trim().split('\t')).filter((f) => f[0]);
      const doc = sboms[first.platforms[platform]!]!.doc;
      const goPkgs = doc.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith('pkg:golang/'));
      const main = lines.find((f) => f[0] === 'mod')!;
      const deps = lines.filter((f) => f[0] === 'dep');
      expect(deps.length).toBeGreaterThan(0);
      expect(goPkgs.map((p: any) => [p.name, p.versionInfo])).toEqual([[main[1], main[2]], ...deps.map((d) => [d[1], d[2]])]);
      const replaced = lines.find((f) => f[0] === '=>')!;
      expect(goPkgs[1].comment).toContain(`replaced by ${replaced[1]} ${replaced[2]}`);
      expect(goPkgs[1].externalRefs[0].referenceLocator).toBe('pkg:golang/example.com/greet@v1.2.3');
      const settings = lines.filter((f) => f[0] === 'build').map((f) => `build ${f[1]}`);
      expect(settings).toContain(platform === 'linux/amd64' ? 'build GOARCH=amd64' : 'build GOARM=7');
      for (const s of settings) expect(goPkgs[0].comment.split('\n')).toContain(s);
      expect(goPkgs[0].comment).toContain((await must('go', ['env', 'GOVERSION'])).trim());
    }
  });

  it('lists the Debian packages dpkg-query reads from the layer, and the Alpine ones, with purls', async () => {
    const m = readBlobJson(j('oci'), first.platforms['linux/amd64']!);
    const root = await extractLayer(blobPath(j('oci'), m.layers[0].digest), j('x-amd64'));
    const dpkg = (await must('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, '-W', '-f', '${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\\n']))
      .split('\n').map((l) => /^ii\s+(\S+) (\S+) (\S+)$/.exec(l)?.slice(1)).filter((f): f is string[] => !!f);
    const doc = attachedSboms(j('oci'))[first.platforms['linux/amd64']!]!.doc;
    const debs = doc.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith('pkg:deb/'));
    expect(debs.length).toBe(dpkg.length);
    const byName = new Map(debs.map((p: any) => [p.name, p]));
    for (const [name, version, arch] of dpkg) {
      const p: any = byName.get(name!.split(':')[0]);
      expect(p?.versionInfo, name).toBe(version);
      expect(p.externalRefs[0].referenceLocator).toContain(`pkg:deb/debian/${encodeURIComponent(p.name)}@`);
      expect(p.externalRefs[0].referenceLocator).toContain(`arch=${arch}`);
    }
    const apks = doc.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith('pkg:apk/'));
    expect(apks.map((p: any) => p.externalRefs[0].referenceLocator)).toEqual([
      'pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64',
      'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64',
    ]);
  });

  it('lists every regular file GNU tar extracts, with its SHA-256', () => {
    const root = j('x-amd64');
    const want: [string, string][] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = path.join(dir, e);
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) want.push([`./${path.relative(root, p)}`, createHash('sha256').update(readFileSync(p)).digest('hex')]);
      }
    };
    walk(root);
    const doc = attachedSboms(j('oci'))[first.platforms['linux/amd64']!]!.doc;
    const got = doc.files.map((f: any) => [f.fileName, f.checksums.find((c: any) => c.algorithm === 'SHA256').checksumValue]);
    expect(got).toEqual(want.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    expect(doc.documentNamespace).toContain(first.platforms['linux/amd64']!.slice(7));
    expect(doc.creationInfo.created).toBe('2023-11-14T22:13:20Z');
  });

  it('is byte-identical across two builds, and attaching moves no image digest', async () => {
    const r = await ociasm(['build', '-f', j('repo', 'ociasm.yaml'), '-o', j('oci2'), '--sbom', '--no-cache', '--no-layer-cache', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(built(JSON.parse(r.stdout))).toEqual(first);
    expect(Object.fromEntries(Object.entries(attachedSboms(j('oci2'))).map(([k, v]) => [k, v.digest]))).toEqual(sbomDigests);
    const plain = await ociasm(['build', '-f', j('repo', 'ociasm.yaml'), '-o', j('oci3'), '--json'], { env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(built(JSON.parse(plain.stdout))).toEqual(first);
    // skopeo still reads the image by its ref with the referrers beside it
    const raw = JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${j('oci')}:app:1.0`]));
    expect(raw.manifests).toHaveLength(2);
    expect(refDescriptor(j('oci'), 'app:1.0').digest).toBe(first.index);
  });

  it('`ociasm sbom` prints the same SPDX document, and CycloneDX on request', async () => {
    const spdx = await ociasm(['sbom', `oci:${j('oci')}:app:1.0`, '--platform', 'linux/arm/v7'], { env });
    expect(spdx.code, spdx.stderr).toBe(0);
    const attached = attachedSboms(j('oci'))[first.platforms['linux/arm/v7']!]!;
    // the same content; the name differs only in that sbom names the image by its ref as the build does
    expect(spdx.stdout).toBe(attached.bytes.toString('utf8'));
    const cdx = await ociasm(['sbom', `oci:${j('oci')}:app:1.0`, '--platform', 'linux/arm/v7', '--format', 'cyclonedx'], { env });
    expect(cdx.code, cdx.stderr).toBe(0);
    const bom = JSON.parse(cdx.stdout);
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    const golang = bom.components.filter((c: any) => c.purl?.startsWith('pkg:golang/')).map((c: any) => c.purl);
    expect(golang).toEqual(['pkg:golang/example.com/app', 'pkg:golang/example.com/greet@v1.2.3']);
    const noPlatform = await ociasm(['sbom', `oci:${j('oci')}:app:1.0`], { env });
    expect(noPlatform.code).not.toBe(0);
    expect(noPlatform.stderr).toContain('SBOM_PLATFORM');
    expect(noPlatform.stderr).toContain('linux/amd64, linux/arm/v7');
  });
});
