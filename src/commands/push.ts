/** `ociasm push DIR[:REF] DEST_REF`: one image or index from a layout to a registry. */
import { findRef, parseLayoutArg } from '../base/layout-source.js';
import { LayoutStore } from '../cas/layout-store.js';
import { parseReference } from '../codec/reference.js';
import { OciasmError } from '../errors.js';
import { Registries } from '../registry/registries.js';
import type { RegistryCliOptions } from '../pipeline/registry-session.js';
import type { Reporter } from '../report/reporter.js';
import { pushImages, type PushResult } from '../copy/push.js';
import type { PushedArtifact } from '../supply/registry-referrers.js';

export interface PushLayoutOptions extends RegistryCliOptions {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
}

export async function pushLayout(layoutArg: string, dest: string, opts: PushLayoutOptions): Promise<PushResult & { referrers?: PushedArtifact[] }> {
  const target = parseReference(dest);
  const { dir, ref } = parseLayoutArg(layoutArg);
  if (dir === '') throw new OciasmError('BUILDFILE_INVALID', `push: "${layoutArg}" names no layout directory`);
  const store = await LayoutStore.open(dir, false);
  const root = await findRef(store, ref, `layout ${dir}`);
  const registries = new Registries({
    env: opts.env, pushRegistries: [target.registry],
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.caFiles ? { caFiles: opts.caFiles } : {}),
    ...(opts.creds ? { creds: opts.creds } : {}),
    ...(opts.maxChunkSize ? { maxChunkSize: opts.maxChunkSize } : {}),
    ...(opts.debug ? { debug: opts.debug } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  try {
    const { annotations: _drop, ...descriptor } = root;
    const result = await pushImages(registries, [{ source: store, root: descriptor, targets: [target] }], {
      jobs: opts.jobs ?? 4,
      progress: (message) => opts.reporter.emit({ type: 'step', image: 'push', message }),
    });
    for (const r of result.refs) opts.reporter.emit({ type: 'line', text: `pushed ${r.ref}` });
    // The image's referrers in the layout (SBOMs, provenance, signatures) follow it (docs/supply-chain.md).
    const { referrersOfImage } = await import('../supply/layout-referrers.js');
    const artifacts = await referrersOfImage(store, descriptor);
    if (artifacts.length > 0) {
      const { pushArtifact } = await import('../supply/registry-referrers.js');
      const repo = registries.repository(target.registry, target.repository);
      const referrers: PushedArtifact[] = [];
      for (const a of artifacts) referrers.push(await pushArtifact(repo, a));
      opts.reporter.emit({ type: 'line', text: `pushed ${referrers.length} referrers` });
      return { ...result, referrers };
    }
    return result;
  } finally {
    await registries.close();
  }
}
