import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/registry/credentials.js';
import { tempDir } from '../harness/util.js';

const tmp = tempDir('ociasm-creds-');
afterAll(() => tmp.cleanup());
const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(name: string, doc: object): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(doc));
  return dir;
}

describe('credential lookup', () => {
  it('finds Docker Hub under https://index.docker.io/v1/ and a host under a URL key', async () => {
    const dir = config('hub', { auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') }, 'https://reg.example:5000/v2/': { auth: b64('u:p') } } });
    const store = new CredentialStore({ env: { HOME: tmp.dir, DOCKER_CONFIG: dir } });
    expect(await store.get('docker.io')).toMatchObject({ username: 'hubuser', password: 'hubpass' });
    expect((await store.get('docker.io'))!.source).toContain('https://index.docker.io/v1/');
    expect(await store.get('reg.example:5000')).toMatchObject({ username: 'u', password: 'p' });
    expect(await store.get('other.example')).toBeUndefined();
  });

  it('prefers REGISTRY_AUTH_FILE over docker config; --creds and OCIASM_USERNAME only for push registries or HOST=', async () => {
    const dir = config('both', { auths: { 'r.example': { auth: b64('docker:x') } } });
    const authFile = path.join(tmp.dir, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { 'r.example': { auth: b64('podman:y') } } }));
    const env = { HOME: tmp.dir, DOCKER_CONFIG: dir, REGISTRY_AUTH_FILE: authFile, OCIASM_USERNAME: 'envuser', OCIASM_PASSWORD: 'envpass' };
    expect(await new CredentialStore({ env }).get('r.example')).toMatchObject({ username: 'podman', source: authFile + ' (auths "r.example")' });
    expect(await new CredentialStore({ env, pushRegistries: ['r.example'] }).get('r.example')).toMatchObject({ username: 'envuser', source: 'OCIASM_USERNAME/OCIASM_PASSWORD' });
    expect(await new CredentialStore({ env, creds: 'c:d', pushRegistries: ['r.example'] }).get('r.example')).toMatchObject({ username: 'c', password: 'd', source: '--creds' });
    expect(await new CredentialStore({ env: { HOME: tmp.dir }, creds: 'r.example=e:f' }).get('r.example')).toMatchObject({ username: 'e', password: 'f' });
    expect(await new CredentialStore({ env: { HOME: tmp.dir }, creds: 'r.example=e:f' }).get('s.example')).toBeUndefined();
  });

  it('reads an identitytoken and names a missing credential helper', async () => {
    const id = config('id', { auths: { 'r.example': { identitytoken: 'tok' } }, credHelpers: { 'h.example': 'nosuchhelper' } });
    const store = new CredentialStore({ env: { HOME: tmp.dir, DOCKER_CONFIG: id, PATH: '/nonexistent' } });
    expect(await store.get('r.example')).toMatchObject({ identityToken: 'tok' });
    await expect(store.get('h.example')).rejects.toThrow(/credHelpers: nosuchhelper.*docker-credential-nosuchhelper get for h.example not found on PATH/);
  });
});
