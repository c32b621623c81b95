/**
 * `--extract DIR`: copies each platform's outputs to `DIR/<platformTag>/`.
 * Nothing is ever written outside DIR: a name that climbs out is refused,
 * no existing symlink inside DIR is followed, and an existing entry at a
 * target path is replaced rather than written through.
 */
import { constants, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { OciasmError } from '../errors.js';
import { compareNames } from '../rootfs/tree.js';
import type { RestoredOutput } from './outputs.js';

/** Refuses an extract name that is absolute or climbs out of its folder. */
export function checkExtractName(name: string, where: string, dir: string): void {
  const comps = name.split('/');
  if (path.isAbsolute(name) || comps.includes('..')) {
    throw new OciasmError('PATH_ESCAPES', `${where}: output "${name}" would be extracted outside ${dir}; refused`);
  }
}

/** Makes `rel` (relative to `root`) a directory, refusing to pass through anything but real directories. */
async function safeDir(root: string, rel: string[], where: string): Promise<string> {
  let at = root;
  for (const c of rel) {
    at = path.join(at, c);
    const st = await lstat(at).catch(() => undefined);
    if (!st) await mkdir(at);
    else if (!st.isDirectory()) {
      throw new OciasmError('PATH_ESCAPES', `${where}: ${at} exists and is not a directory (symlinks in the extract folder are not followed); refused`);
    }
  }
  return at;
}

async function copyInto(src: string, root: string, rel: string[], where: string): Promise<void> {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    await safeDir(root, rel, where);
    for (const name of readdirSync(src).sort(compareNames)) await copyInto(path.join(src, name), root, [...rel, name], where);
    await chmod(path.join(root, ...rel), (st.mode & 0o7777) | 0o700);
    return;
  }
  const parent = await safeDir(root, rel.slice(0, -1), where);
  const target = path.join(parent, rel[rel.length - 1]!);
  const old = await lstat(target).catch(() => undefined);
  if (old?.isDirectory()) throw new OciasmError('PATH_ESCAPES', `${where}: ${target} is a directory; refused to replace it`);
  if (old) await rm(target, { force: true });
  if (st.isSymbolicLink()) await symlink(readlinkSync(src), target);
  else {
    await copyFile(src, target, constants.COPYFILE_EXCL);
    await chmod(target, st.mode & 0o7777);
  }
}

export async function extractOutputs(dir: string, platformTag: string, outputs: RestoredOutput[], where: string): Promise<void> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  for (const o of outputs) {
    checkExtractName(o.extractName, where, dir);
    const rel = [platformTag, ...o.extractName.split('/').filter((c) => c !== '' && c !== '.')];
    await copyInto(o.hostPath, root, rel, where);
  }
}
