/**
 * Package databases of a root filesystem, parsed from their text formats:
 * Debian's `var/lib/dpkg/status` (RFC 822-style paragraphs; only packages
 * whose Status ends in "installed") and Alpine's `lib/apk/db/installed`
 * (one `X:value` line per field, blank line between packages), and
 * `etc/os-release` for the distribution in the purl. Pure; lines that do not
 * parse are skipped, never fatal.
 */

export interface OsPackage {
  type: 'deb' | 'apk';
  name: string;
  version: string;
  arch?: string;
  /** The source package (dpkg Source:, apk o:), when it differs. */
  source?: string;
  license?: string;
}

export interface OsRelease {
  id?: string;
  versionId?: string;
}

export function parseOsRelease(text: string): OsRelease {
  const out: OsRelease = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const value = m[2]!.replace(/^["']|["']$/g, '');
    if (m[1] === 'ID') out.id = value;
    if (m[1] === 'VERSION_ID') out.versionId = value;
  }
  return out;
}

export function parseDpkgStatus(text: string): OsPackage[] {
  const out: OsPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let key: string | undefined;
    for (const line of para.split('\n')) {
      if (/^[ \t]/.test(line)) continue; // continuation lines (Description, Conffiles) are not needed
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      key = line.slice(0, colon).toLowerCase();
      fields.set(key, line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status') ?? '';
    if (!name || !version || !/ installed$/.test(status)) continue;
    const pkg: OsPackage = { type: 'deb', name, version };
    const arch = fields.get('architecture');
    if (arch) pkg.arch = arch;
    const source = fields.get('source')?.split(' ')[0];
    if (source && source !== name) pkg.source = source;
    out.push(pkg);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function parseApkInstalled(text: string): OsPackage[] {
  const out: OsPackage[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of para.split('\n')) {
      if (line.length < 2 || line[1] !== ':') continue;
      if (!fields.has(line[0]!)) fields.set(line[0]!, line.slice(2));
    }
    const name = fields.get('P');
    const version = fields.get('V');
    if (!name || !version) continue;
    const pkg: OsPackage = { type: 'apk', name, version };
    const arch = fields.get('A');
    if (arch) pkg.arch = arch;
    const origin = fields.get('o');
    if (origin && origin !== name) pkg.source = origin;
    const license = fields.get('L');
    if (license) pkg.license = license;
    out.push(pkg);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Percent-encodes one purl segment (purl-spec: everything but unreserved characters). */
function seg(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const DEB_DISTROS = new Set(['debian', 'ubuntu', 'raspbian', 'kali', 'linuxmint', 'pop', 'devuan']);
const APK_DISTROS = new Set(['alpine', 'wolfi', 'chainguard', 'postmarketos']);

/** purl-spec's deb and apk types: the namespace is the distribution (from os-release when it is one of the type's). */
export function osPackagePurl(p: OsPackage, os: OsRelease): string {
  const known = p.type === 'deb' ? DEB_DISTROS : APK_DISTROS;
  const fromOs = os.id !== undefined && known.has(os.id);
  const distro = fromOs ? os.id! : p.type === 'deb' ? 'debian' : 'alpine';
  const q: string[] = [];
  if (p.arch) q.push(`arch=${seg(p.arch)}`);
  if (fromOs && os.versionId) q.push(`distro=${seg(`${distro}-${os.versionId}`)}`);
  if (p.source) q.push(`upstream=${seg(p.source)}`);
  return `pkg:${p.type}/${seg(distro)}/${seg(p.name)}@${seg(p.version)}${q.length ? `?${q.join('&')}` : ''}`;
}

/** `pkg:golang/<module path>@<version>`; the path's slashes separate namespace segments. */
export function golangPurl(path: string, version: string): string {
  const v = version && version !== '(devel)' ? `@${seg(version)}` : '';
  return `pkg:golang/${path.split('/').map(seg).join('/')}${v}`;
}

/** `pkg:oci/<name>@<digest>`: the last path component names the image (purl-spec's oci type). */
export function ociPurl(name: string, digest: string, extra: Record<string, string> = {}): string {
  const q = Object.entries(extra).map(([k, v]) => `${k}=${seg(v)}`);
  return `pkg:oci/${seg(name)}@${seg(digest)}${q.length ? `?${q.join('&')}` : ''}`;
}
