/** Removing a temp tree that may hold read-only directories (modes are kept from the image or the build). */
import { readdirSync, lstatSync, chmodSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

function makeWritable(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (lstatSync(p).isDirectory()) makeWritable(p);
    }
  } catch {
    // best effort; rm reports what is left
  }
}

export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
