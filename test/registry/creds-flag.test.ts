/** `--creds` parsing: HOST[:PORT]= prefixes, repetition, and errors that never quote the value. */
import { describe, expect, it } from 'vitest';
import { CredentialStore, parseCreds } from '../../src/registry/credentials.js';

describe('--creds', () => {
  it('takes HOST:PORT=, bracketed IPv6 and plain USER:PASS, with = and : inside passwords', () => {
    const p = parseCreds(['127.0.0.1:5000=u1:p1', 'Reg.Example=u2:p=2', '[::1]:5001=u3:p:3', 'me:pa=ss:word']);
    expect(p.byHost.get('127.0.0.1:5000')).toMatchObject({ username: 'u1', password: 'p1', source: '--creds' });
    expect(p.byHost.get('reg.example')).toMatchObject({ username: 'u2', password: 'p=2' });
    expect(p.byHost.get('[::1]:5001')).toMatchObject({ username: 'u3', password: 'p:3' });
    expect(p.plain).toMatchObject({ username: 'me', password: 'pa=ss:word' });
    expect(parseCreds('just:one').plain).toMatchObject({ username: 'just', password: 'one' });
  });

  it('applies HOST:PORT= to that registry only, pull or push; plain creds to push registries only', async () => {
    const store = new CredentialStore({ env: { HOME: '/nonexistent' }, creds: ['127.0.0.1:5000=a:b', 'c:d'], pushRegistries: ['127.0.0.1:6000'] });
    expect(await store.get('127.0.0.1:5000')).toMatchObject({ username: 'a', password: 'b' });
    expect(await store.get('127.0.0.1:6000')).toMatchObject({ username: 'c', password: 'd' });
    expect(await store.get('127.0.0.1:7000')).toBeUndefined();
  });

  it('refuses a registry given twice, two plain values and a value without a colon, quoting no secret', () => {
    expect(() => parseCreds(['h:1=a:Secret1', 'H:1=b:Secret2'])).toThrow('--creds is given twice for h:1');
    expect(() => parseCreds(['a:Secret1', 'b:Secret2'])).toThrow(/given twice without HOST=/);
    for (const v of ['h:1=NoColonSecret', 'NoColonSecret']) {
      let message = '';
      try { parseCreds(v); } catch (e) { message = (e as Error).message; }
      expect(message).toContain('expected USER:PASSWORD');
      expect(message).not.toContain('NoColonSecret');
    }
  });
});
