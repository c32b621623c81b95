/**
 * The build's supply-chain step (opt-in: `--sbom`, `--provenance`,
 * `--sign KEY`; docs/supply-chain.md): after the refs are written, each
 * image gets its SBOMs, provenance and signatures as referrers in the layout;
 * `--push` then pushes them after the images (registry-session.ts).
 * The key is loaded before anything is built, so a wrong password fails first.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildFile } from '../buildfile/types.js';
import type { LockOptions } from '../cas/layout-lock.js';
import type { LayoutStore } from '../cas/layout-store.js';
import type { ImagePlan } from '../plan/plan.js';
import { readGitInfo } from '../plan/git-info.js';
import type { Artifact } from '../supply/artifact.js';
import { attestImage } from '../supply/attest.js';
import { loadSigningKey, type SigningKey } from '../supply/keys.js';
import { attachToLayout } from '../supply/layout-referrers.js';
import type { ProvenanceInput } from '../supply/provenance.js';
import type { ImageResult } from './build.js';

export interface SupplyOptions {
  sbom?: boolean;
  provenance?: boolean;
  /** `--sign KEY`: a private key file (docs/supply-chain.md). */
  signKey?: string;
}

export interface Tool {
  name: string;
  version: string;
}

export function supplyRequested(s: SupplyOptions | undefined): boolean {
  return !!(s && (s.sbom || s.provenance || s.signKey));
}

export async function loadBuildKey(s: SupplyOptions | undefined, env: NodeJS.ProcessEnv): Promise<SigningKey | undefined> {
  return s?.signKey ? loadSigningKey(s.signKey, env) : undefined;
}

/** The repository a signature names: the first push: reference, else the image's ref name. */
function dockerReference(plan: ImagePlan): string {
  const first = plan.push[0];
  return first ? `${first.registry}/${first.repository}` : plan.refName;
}

async function buildFileDigest(bf: BuildFile): Promise<{ path: string; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(bf.file);
  } catch {
    bytes = Buffer.from(JSON.stringify(bf.images)); // an embedded build list: its content stands in for the file
  }
  return { path: path.basename(bf.file), sha256: createHash('sha256').update(bytes).digest('hex') };
}

export async function attachSupplyChain(
  store: LayoutStore, bf: BuildFile, plans: ImagePlan[], images: ImageResult[], s: SupplyOptions, key: SigningKey | undefined,
  ctx: { epoch: number; args: Record<string, string>; tool: Tool; signal?: AbortSignal; lock?: LockOptions },
): Promise<Map<string, Artifact[]>> {
  const out = new Map<string, Artifact[]>();
  const file = s.provenance ? await buildFileDigest(bf) : undefined;
  const git = s.provenance ? await readGitInfo(bf.dir) : undefined;
  for (const img of images) {
    const plan = plans.find((p) => p.refName === img.ref)!;
    let provenance: ProvenanceInput | undefined;
    if (s.provenance) {
      provenance = {
        image: {
          name: img.name, ref: img.ref, index: img.index.digest,
          platforms: img.platforms.map((p) => ({ platform: p.platform, manifest: p.manifest.digest, ...(p.base ? { base: p.base } : {}) })),
        },
        buildFile: file!, args: ctx.args, epoch: ctx.epoch,
        toolchain: plan.platforms.flatMap((pp, i) => (pp.build ? [{ platform: img.platforms[i]!.platform, run: pp.build.run, envNames: Object.keys(pp.build.env) }] : [])),
        ...(git?.commit ? { git: { commit: git.commit } } : {}),
        tool: ctx.tool,
      };
    }
    const artifacts = await attestImage({
      store, name: img.ref, dockerReference: dockerReference(plan), index: img.index,
      platforms: img.platforms.map((p) => ({ platform: p.platform, manifest: p.manifest })),
      epoch: ctx.epoch, tool: `${ctx.tool.name}-${ctx.tool.version}`, sbom: !!s.sbom,
      ...(provenance ? { provenance } : {}), ...(key ? { key } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    await attachToLayout(store, artifacts, ctx.lock);
    out.set(img.ref, artifacts);
  }
  return out;
}
