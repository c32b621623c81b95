/**
 * Templates in tag, push and platformTags are expanded in the plan, before
 * any work: push and platformTags from the expanded tag, with {{args.*}};
 * a message names its location once; a Python-style or malformed placeholder
 * is refused, never kept. Images are identified by name and tag.
 */
import { describe, expect, it } from 'vitest';
import { parseBuildFile } from '../../src/buildfile/load.js';
import { planBuild } from '../../src/plan/plan.js';

const file = (text: string) => parseBuildFile(text, '/w/ociasm.yaml');
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('push and platformTags', () => {
  const bf = file(`args: { VERSION: "0.0.0", REPO: docker.io/skycoin }
images:
  - name: skycoin
    tag: "{{args.VERSION}}"
    platforms: [linux/amd64, linux/arm/v7]
    push: ["{{args.REPO}}/{{name}}:{{tag}}", "127.0.0.1:5000/x/{{name}}:{{tag}}-{{git.commit}}"]
    platformTags: "{{tag}}-{{platformTag}}"
`);

  it('expand from the expanded tag and take args (the porting guide command)', () => {
    const [img] = planBuild(bf, { args: { VERSION: '1.2.3' }, git: { commit: 'abc', branch: '', tag: '' } });
    expect(img!.refName).toBe('skycoin:1.2.3');
    expect(img!.push).toEqual([
      { registry: 'docker.io', repository: 'skycoin/skycoin', tag: '1.2.3' },
      { registry: '127.0.0.1:5000', repository: 'x/skycoin', tag: '1.2.3-abc' },
    ]);
    expect(img!.platforms.map((p) => p.pushTag)).toEqual(['1.2.3-amd64', '1.2.3-arm32v7']);
  });

  it('a bad push reference or platform tag fails in the plan, naming the location once', () => {
    const bad = file('images:\n  - { name: a, push: ["Docker.io/{{nope}}"] }\n');
    const msg = messageOf(() => planBuild(bad));
    expect(msg).toBe('/w/ociasm.yaml: image "a": push[0]: unknown template "{{nope}}" (known: args.*, git.branch, git.commit, git.tag, name, sourceDateEpoch, tag)'.replace('args.*, ', ''));
    const upper = messageOf(() => planBuild(file('images:\n  - { name: a, push: ["reg.example/A/{{name}}"] }\n')));
    expect(upper.match(/push\[0\]/g)).toHaveLength(1);
    expect(upper).toContain('"reg.example/A/{{name}}" gives the bad reference "reg.example/A/a"');
    const same = messageOf(() => planBuild(file('images:\n  - { name: a, platforms: [linux/amd64, linux/arm64], platformTags: "{{tag}}" }\n')));
    expect(same).toContain('platformTags: "{{tag}}" gives "latest" for two platforms');
  });
});

describe('placeholders', () => {
  it('refuses a Python-style placeholder with the ociasm spelling', () => {
    const msg = messageOf(() => file('images:\n  - { name: a, tag: "{img_parts[tag]}" }\n'));
    expect(msg).toContain('image "a": tag: "{img_parts[tag]}" is a Python-style placeholder');
    expect(msg).toContain('{{args.tag}}');
    const inFiles = messageOf(() => planBuild(file('images:\n  - { name: a, files: [{ src: "{root}/x", dest: / }] }\n')));
    expect(inFiles).toContain('files[0].src: "{root}" is a Python-style placeholder');
  });

  it('refuses a {{ that is no template; keeps shell ${VAR}, and braces in file contents and argv', () => {
    expect(messageOf(() => planBuild(file('images:\n  - { name: a, env: { X: "{{args.A-B}}" } }\n')))).toContain('"{{args.A-B}}" is not a template');
    const [img] = planBuild(file(`images:
  - name: a
    env: { P: "\${PATH}:/x" }
    paths: [{ path: /f, type: file, content: "{x} {{platformTag}}" }]
    test: [python3, -c, "print(f'{x}')"]
`));
    expect(img!.platforms[0]!.runtime.env).toEqual({ P: '${PATH}:/x' });
    expect(img!.platforms[0]!.paths[0]!.content).toBe('{x} amd64');
    expect(img!.platforms[0]!.test).toEqual(['python3', '-c', "print(f'{x}')"]);
  });
});

describe('images are name and tag', () => {
  const chain = file(`images:
  - { name: corpusops/ubuntu, tag: 18.04_preprovision, base: "image:corpusops/ubuntu:18.04" }
  - { name: corpusops/ubuntu, tag: "18.04" }
  - { name: other, base: "image:corpusops/ubuntu" }
`);

  it('a chain inside one repository builds base first', () => {
    const plans = planBuild(chain, { images: ['corpusops/ubuntu:18.04_preprovision'] });
    expect(plans.map((p) => [p.refName, p.inBuildBase])).toEqual([
      ['corpusops/ubuntu:18.04', undefined],
      ['corpusops/ubuntu:18.04_preprovision', 'corpusops/ubuntu:18.04'],
    ]);
    expect(plans[0]!.where).toBe('/w/ociasm.yaml: image "corpusops/ubuntu:18.04"');
    expect(planBuild(chain, { images: ['corpusops/ubuntu'] }).map((p) => p.refName)).toHaveLength(2);
  });

  it('image:NAME with several tags is ambiguous; the same NAME:TAG twice is refused', () => {
    expect(messageOf(() => planBuild(chain))).toContain(
      'image "other": base image:corpusops/ubuntu is ambiguous (corpusops/ubuntu:18.04_preprovision, corpusops/ubuntu:18.04); write image:NAME:TAG',
    );
    expect(messageOf(() => file('images:\n  - { name: a, tag: "1" }\n  - { name: a, tag: 1 }\n'))).toContain('a:1 appears twice');
    const expanded = file('args: { V: "1" }\nimages:\n  - { name: a, tag: "{{args.V}}" }\n  - { name: a, tag: "1" }\n');
    expect(messageOf(() => planBuild(expanded))).toContain('its ref a:1 is also image "a:{{args.V}}"\'s');
  });
});
