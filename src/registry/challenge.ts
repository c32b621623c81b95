/**
 * `WWW-Authenticate` challenges (RFC 7235) as registries send them:
 * `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. Pure.
 */

export interface Challenge {
  scheme: 'bearer' | 'basic' | string;
  params: Record<string, string>;
}

/** Parses one header value, which may hold several challenges. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
  while (i < s.length) {
    skipWs();
    while (s[i] === ',') { i++; skipWs(); }
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) break;
    const challenge: Challenge = { scheme: m[0].toLowerCase(), params: {} };
    i += m[0].length;
    out.push(challenge);
    for (;;) {
      skipWs();
      const start = i;
      const name = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(s.slice(i));
      if (!name) { i = start; break; }
      i += name[0].length;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const tok = /^[^,\s]*/.exec(s.slice(i))![0];
        value = tok;
        i += tok.length;
      }
      challenge.params[name[1]!.toLowerCase()] = value;
      skipWs();
      if (s[i] !== ',') break;
      i++;
      // a following "name=" continues this challenge; a bare token starts the next one
      const ahead = /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=/.exec(s.slice(i));
      if (!ahead) break;
    }
  }
  return out;
}

/** Scopes in a challenge's `scope` parameter (space separated). */
export function challengeScopes(c: Challenge): string[] {
  return (c.params.scope ?? '').split(' ').filter(Boolean);
}

/**
 * Merges scopes: `repository:x:pull` and `repository:x:push` become
 * `repository:x:pull,push`; output is sorted, so it is a stable cache key.
 */
export function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const s of scopes) {
    const at = s.lastIndexOf(':');
    if (at < 0) continue;
    const resource = s.slice(0, at);
    const set = byResource.get(resource) ?? new Set<string>();
    for (const a of s.slice(at + 1).split(',')) if (a) set.add(a);
    byResource.set(resource, set);
  }
  return [...byResource].map(([r, a]) => `${r}:${[...a].sort().join(',')}`).sort();
}

/** True when `have` grants everything `want` asks for. */
export function scopesCover(have: string[], want: string[]): boolean {
  const merged = mergeScopes(have);
  return mergeScopes(want).every((w) => {
    const at = w.lastIndexOf(':');
    const h = merged.find((m) => m.slice(0, m.lastIndexOf(':')) === w.slice(0, at));
    if (!h) return false;
    const actions = new Set(h.slice(h.lastIndexOf(':') + 1).split(','));
    return w.slice(at + 1).split(',').every((a) => actions.has(a) || actions.has('*'));
  });
}
