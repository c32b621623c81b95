/**
 * The SBOM of one platform image: the image, its base, the OS packages its
 * package database records, the Go modules built into its Go binaries, and
 * every regular file with its checksums. Rendered as SPDX 2.3 JSON or
 * CycloneDX 1.6 JSON (both written by hand: the formats are small).
 *
 * Deterministic: the timestamp is the source date epoch, the SPDX document
 * namespace and the CycloneDX serial number come from the manifest digest,
 * lists are sorted, and JSON keys are written in a fixed order. The same
 * image therefore always gives the same SBOM bytes.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from '../cas/blob-store.js';
import { isoTime } from '../image/assemble.js';
import { readJsonBlob } from '../image/read.js';
import { Annotation, type Descriptor, type Digest, type ImageConfig, type ImageManifest } from '../oci/types.js';
import type { GoBuildInfo } from './go-buildinfo.js';
import { type ImageFiles, readImageFiles } from './image-files.js';
import {
  golangPurl, ociPurl, osPackagePurl, type OsPackage, type OsRelease, parseApkInstalled, parseDpkgStatus, parseOsRelease,
} from './pkgdb.js';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';
export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

export interface SbomSubject {
  /** The image's name as the user knows it: a layout ref, a repository. */
  name: string;
  manifestDigest: Digest;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Seconds; default: the config's `created`, else 0. */
  epoch?: number;
  /** The tool that writes the SBOM, e.g. "ociasm-0.1.0". */
  tool: string;
}

interface GoBinary {
  path: string;
  info: GoBuildInfo;
}

export interface SbomModel {
  subject: SbomSubject;
  epoch: number;
  platform: string;
  base?: { name: string; digest: string };
  os: OsRelease;
  osPackages: OsPackage[];
  goBinaries: GoBinary[];
  files: { path: string; sha256: string; sha1: string }[];
}

function epochOf(s: SbomSubject): number {
  if (s.epoch !== undefined) return s.epoch;
  const t = s.config.created ? Date.parse(s.config.created) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export function sbomModel(subject: SbomSubject, contents: ImageFiles): SbomModel {
  const text = (p: string) => (contents.files.get(p)?.header.type === 'file' ? contents.texts.get(p) : undefined);
  const osText = text('etc/os-release') ?? text('usr/lib/os-release');
  const os = osText ? parseOsRelease(osText) : {};
  const dpkg = text('var/lib/dpkg/status');
  const apk = text('lib/apk/db/installed');
  const osPackages = [...(dpkg ? parseDpkgStatus(dpkg) : []), ...(apk ? parseApkInstalled(apk) : [])];
  const files: SbomModel['files'] = [];
  const goBinaries: GoBinary[] = [];
  for (const [path, f] of contents.files) {
    if (f.sha256 === undefined || (f.header.type !== 'file' && f.header.type !== 'hardlink')) continue;
    files.push({ path, sha256: f.sha256, sha1: f.sha1! });
    if (f.go) goBinaries.push({ path, info: f.go });
  }
  const ann = subject.manifest.annotations ?? {};
  const c = subject.config;
  const model: SbomModel = {
    subject, epoch: epochOf(subject), platform: [c.os, c.architecture, c.variant].filter(Boolean).join('/'),
    os, osPackages, goBinaries, files,
  };
  if (ann[Annotation.BaseName] && ann[Annotation.BaseDigest]) model.base = { name: ann[Annotation.BaseName], digest: ann[Annotation.BaseDigest] };
  return model;
}

/** Reads the manifest's layers and builds the model. */
export async function imageSbomModel(store: BlobStore, manifestDesc: Descriptor, name: string, tool: string, epoch?: number, signal?: AbortSignal): Promise<SbomModel> {
  const manifest = await readJsonBlob<ImageManifest>(store, manifestDesc, 'manifest');
  const config = await readJsonBlob<ImageConfig>(store, manifest.config, 'config');
  const contents = await readImageFiles(store, manifest, signal);
  return sbomModel({ name, manifestDigest: manifestDesc.digest, manifest, config, tool, ...(epoch !== undefined ? { epoch } : {}) }, contents);
}

const hex = (d: string) => d.replace(/^sha256:/, '');
const idOf = (kind: string, key: string) => `SPDXRef-${kind}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

function imagePurl(m: SbomModel): string {
  const [, arch, variant] = m.platform.split('/');
  const last = m.subject.name.split('/').pop()!.split(':')[0]!.toLowerCase();
  const q: Record<string, string> = {};
  if (arch) q.arch = arch;
  if (variant) q.variant = variant;
  if (m.subject.name.includes('/')) q.repository_url = m.subject.name.replace(/:[^/:]*$/, '');
  return ociPurl(last, m.subject.manifestDigest, q);
}

function goModules(b: GoBinary): { path: string; version: string; sum?: string; main: boolean; replace?: string }[] {
  const out: { path: string; version: string; sum?: string; main: boolean; replace?: string }[] = [];
  const main = b.info.main ?? (b.info.path ? { path: b.info.path, version: '(devel)' } : undefined);
  if (main) out.push({ path: main.path, version: main.version, ...(main.sum ? { sum: main.sum } : {}), main: true });
  for (const d of b.info.deps) {
    out.push({
      path: d.path, version: d.version, main: false,
      ...(d.sum ? { sum: d.sum } : d.replace?.sum ? { sum: d.replace.sum } : {}),
      ...(d.replace ? { replace: `${d.replace.path}${d.replace.version ? ` ${d.replace.version}` : ''}` } : {}),
    });
  }
  return out;
}

/** SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/). */
export function renderSpdx(m: SbomModel): Buffer {
  const created = isoTime(m.epoch);
  const imageId = 'SPDXRef-Image';
  const packages: unknown[] = [];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
  ];
  packages.push({
    name: m.subject.name, SPDXID: imageId, versionInfo: m.subject.manifestDigest, downloadLocation: 'NOASSERTION',
    filesAnalyzed: false, primaryPackagePurpose: 'CONTAINER',
    checksums: [{ algorithm: 'SHA256', checksumValue: hex(m.subject.manifestDigest) }],
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(m) }],
    comment: `platform ${m.platform}`,
  });
  if (m.base) {
    const baseId = idOf('Base', `${m.base.name}@${m.base.digest}`);
    const last = m.base.name.split('/').pop()!.split(':')[0]!.toLowerCase();
    packages.push({
      name: m.base.name, SPDXID: baseId, versionInfo: m.base.digest, downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER', checksums: [{ algorithm: 'SHA256', checksumValue: hex(m.base.digest) }],
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: ociPurl(last, m.base.digest) }],
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'DESCENDANT_OF', relatedSpdxElement: baseId });
  }
  for (const p of m.osPackages) {
    const purl = osPackagePurl(p, m.os);
    const id = idOf('Package', purl);
    packages.push({
      name: p.name, SPDXID: id, versionInfo: p.version, downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      ...(p.source ? { sourceInfo: `built from source package ${p.source}` } : {}),
      licenseDeclared: p.license ?? 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }],
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  }
  const fileIds = new Map(m.files.map((f) => [f.path, idOf('File', f.path)]));
  for (const b of m.goBinaries) {
    let mainId: string | undefined;
    for (const mod of goModules(b)) {
      const id = idOf('GoModule', `${b.path}\0${mod.path}`);
      const comment = [
        ...(mod.main ? [`main module of /${b.path}, built with ${b.info.goVersion}`, ...b.info.settings.map(([k, v]) => `build ${k}=${v}`)] : [`dependency of /${b.path}`]),
        ...(mod.replace ? [`replaced by ${mod.replace}`] : []),
      ].join('\n');
      packages.push({
        name: mod.path, SPDXID: id, versionInfo: mod.version, downloadLocation: 'NOASSERTION', filesAnalyzed: false,
        primaryPackagePurpose: mod.main ? 'APPLICATION' : 'LIBRARY',
        ...(mod.sum ? { checksums: [{ algorithm: 'SHA256', checksumValue: Buffer.from(mod.sum.replace(/^h1:/, ''), 'base64').toString('hex') }] } : {}),
        externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: golangPurl(mod.path, mod.version) }],
        comment,
      });
      if (mod.main) {
        mainId = id;
        relationships.push({ spdxElementId: fileIds.get(b.path)!, relationshipType: 'GENERATED_FROM', relatedSpdxElement: id });
      } else if (mainId) relationships.push({ spdxElementId: mainId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: id });
    }
  }
  const files = m.files.map((f) => ({
    fileName: `./${f.path}`, SPDXID: fileIds.get(f.path)!,
    checksums: [{ algorithm: 'SHA1', checksumValue: f.sha1 }, { algorithm: 'SHA256', checksumValue: f.sha256 }],
    licenseConcluded: 'NOASSERTION', copyrightText: 'NOASSERTION',
  }));
  for (const f of m.files) relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: fileIds.get(f.path)! });
  const doc = {
    spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT',
    name: `${m.subject.name}@${m.subject.manifestDigest}`,
    documentNamespace: `https://ociasm.invalid/spdx/sha256-${hex(m.subject.manifestDigest)}`,
    creationInfo: { created, creators: [`Tool: ${m.subject.tool}`] },
    packages, files, relationships,
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

/** CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/). */
export function renderCycloneDx(m: SbomModel): Buffer {
  const h = hex(m.subject.manifestDigest);
  const serial = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const imageRef = imagePurl(m);
  const components: unknown[] = [];
  const dependencies: { ref: string; dependsOn: string[] }[] = [];
  if (m.base) {
    const last = m.base.name.split('/').pop()!.split(':')[0]!.toLowerCase();
    const ref = ociPurl(last, m.base.digest);
    components.push({ type: 'container', 'bom-ref': ref, name: m.base.name, version: m.base.digest, purl: ref, properties: [{ name: 'ociasm:role', value: 'base' }] });
  }
  for (const p of m.osPackages) {
    const purl = osPackagePurl(p, m.os);
    components.push({ type: 'library', 'bom-ref': purl, name: p.name, version: p.version, purl, ...(p.license ? { licenses: [{ expression: p.license }] } : {}) });
  }
  for (const b of m.goBinaries) {
    const mods = goModules(b);
    const refOf = (mod: { path: string; version: string }) => `${golangPurl(mod.path, mod.version)}#/${b.path}`;
    for (const mod of mods) {
      components.push({
        type: mod.main ? 'application' : 'library', 'bom-ref': refOf(mod), name: mod.path, version: mod.version,
        purl: golangPurl(mod.path, mod.version),
        ...(mod.sum ? { hashes: [{ alg: 'SHA-256', content: Buffer.from(mod.sum.replace(/^h1:/, ''), 'base64').toString('hex') }] } : {}),
        properties: [
          { name: 'ociasm:binary', value: `/${b.path}` },
          ...(mod.main ? [{ name: 'golang:version', value: b.info.goVersion }, ...b.info.settings.map(([k, v]) => ({ name: `golang:build:${k}`, value: v }))] : []),
          ...(mod.replace ? [{ name: 'golang:replace', value: mod.replace }] : []),
        ],
      });
    }
    const [main, ...deps] = mods;
    if (main?.main) dependencies.push({ ref: refOf(main), dependsOn: deps.map(refOf) });
  }
  for (const f of m.files) {
    components.push({ type: 'file', 'bom-ref': `file:/${f.path}`, name: `/${f.path}`, hashes: [{ alg: 'SHA-1', content: f.sha1 }, { alg: 'SHA-256', content: f.sha256 }] });
  }
  const doc = {
    bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: serial, version: 1,
    metadata: {
      timestamp: isoTime(m.epoch),
      tools: { components: [{ type: 'application', name: m.subject.tool.replace(/-[^-]*$/, ''), version: m.subject.tool.replace(/^.*-/, '') }] },
      component: { type: 'container', 'bom-ref': imageRef, name: m.subject.name, version: m.subject.manifestDigest, purl: imageRef, properties: [{ name: 'ociasm:platform', value: m.platform }] },
    },
    components, dependencies,
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}
