/** The builder's small rules: Go templates, unknown names, input globs, {{qemu}} on the host, extra_args, chain order. */
import { describe, expect, it } from 'vitest';
import { parseBuildFile } from '../../src/buildfile/load.js';
import { parseExtraArgs } from '../../src/buildfile/json-list.js';
import { planBuild } from '../../src/plan/plan.js';
import { orderImages } from '../../src/plan/order.js';
import { fillCheckArgv } from '../../src/selfcheck/run-check.js';
import { isHostPlatform } from '../../src/selfcheck/qemu.js';
import { globRegex } from '../../src/toolchain/inputs.js';
import { extractNameOf } from '../../src/toolchain/outputs.js';

const file = (images: string, top = '') => parseBuildFile(`${top}images:\n${images}`, '/w/ociasm.yaml');

describe('templates of the build step', () => {
  const bf = file(`  - name: a
    platforms: [linux/amd64, linux/arm64, linux/arm/v5, linux/arm/v6, linux/arm/v7, linux/386]
    build:
      run: [go, build, "-X main.c={{git.commit}}/{{git.branch}}/{{git.tag}}", "{{args.V}}", "{{sourceDateEpoch}}", -o, "{{out}}/a"]
      env: { GOARCH: "{{goarch}}", GOARM: "{{goarm}}" }
      platformEnv: { linux/arm/v7: { CC: arm-linux-gnueabihf-gcc } }
`, 'args: { V: "1.0" }\n');

  it('gives goarch/goarm, git, args, the epoch, and keeps {{out}} for run time', () => {
    const plans = planBuild(bf, { epoch: 42, git: { commit: 'abc', branch: 'main', tag: '' }, args: { V: '2.0' } })[0]!.platforms;
    expect(plans.map((p) => [p.build!.env.GOARCH, p.build!.env.GOARM])).toEqual([
      ['amd64', ''], ['arm64', ''], ['arm', '5'], ['arm', '6'], ['arm', '7'], ['386', ''],
    ]);
    expect(plans[0]!.build!.run).toEqual(['go', 'build', '-X main.c=abc/main/', '2.0', '42', '-o', '{{out}}/a']);
    expect(plans[4]!.build!.env.CC).toBe('arm-linux-gnueabihf-gcc');
    expect(plans[3]!.build!.env.CC).toBeUndefined();
  });

  it('the tag takes args, git and the epoch, and must give a valid tag', () => {
    const tagged = file('  - { name: a, tag: "{{args.V}}-{{git.commit}}" }\n', 'args: { V: "1.0" }\n');
    expect(planBuild(tagged, { git: { commit: 'abc', branch: '', tag: '' }, args: { V: '2.0' } })[0]!.refName).toBe('a:2.0-abc');
    const outsideGit = file('  - { name: a, tag: "{{git.tag}}" }\n');
    expect(() => planBuild(outsideGit)).toThrow(/tag "\{\{git.tag\}\}" gives "", which is not a valid tag/);
  });

  it('an unknown template name is an error, not an empty string', () => {
    const bad = file('  - name: a\n    build: { run: [go, "{{args.NOPE}}"] }\n');
    expect(() => planBuild(bad)).toThrow(/unknown template "\{\{args.NOPE\}\}"/);
    const rootfsInRun = file('  - name: a\n    build: { run: [go, "{{rootfs}}"] }\n');
    expect(() => planBuild(rootfsInRun)).toThrow(/unknown template/);
  });

  it('a platformEnv key that is not one of the platforms is an error', () => {
    const bad = file('  - name: a\n    build: { run: [go], platformEnv: { linux/arm/v7: { CC: x } } }\n');
    expect(() => planBuild(bad)).toThrow(/platformEnv: linux\/arm\/v7 is not one of the image's platforms/);
  });
});

describe('small rules', () => {
  it('input globs', () => {
    expect(globRegex('src/**/*.go').test('src/a.go')).toBe(true);
    expect(globRegex('src/**/*.go').test('src/x/y/a.go')).toBe(true);
    expect(globRegex('src/**/*.go').test('src/a.goo')).toBe(false);
    expect(globRegex('src/*.go').test('src/x/a.go')).toBe(false);
    expect(globRegex('src/**').test('src/x/y')).toBe(true);
  });

  it('{{qemu}} that expands to nothing on the host is dropped from the argv', () => {
    expect(isHostPlatform({ os: 'linux', architecture: 'amd64' }, 'x64', 'linux')).toBe(true);
    expect(isHostPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'x64', 'linux')).toBe(false);
    expect(fillCheckArgv(['{{qemu}}', '{{rootfs}}/bin/x', ''], { qemu: '', rootfs: '/r' })).toEqual(['/r/bin/x', '']);
    expect(fillCheckArgv(['{{qemu}}', '{{rootfs}}/bin/x'], { qemu: '/q', rootfs: '/r' })).toEqual(['/q', '/r/bin/x']);
  });

  it('extract names: relative to {{out}}, else the base name', () => {
    expect(extractNameOf('{{out}}/bin/app')).toBe('bin/app');
    expect(extractNameOf('{{out}}/../x')).toBe('../x');
    expect(extractNameOf('{{out}}')).toBe('.');
    expect(extractNameOf('build/app')).toBe('app');
  });

  it('extra_args spellings', () => {
    expect(parseExtraArgs({ A: 1 }, 'w')).toEqual({ A: '1' });
    expect(parseExtraArgs(['A=1', '--build-arg', 'B=2', '--build-arg=C=3'], 'w')).toEqual({ A: '1', B: '2', C: '3' });
    expect(parseExtraArgs('--build-arg A=x=y', 'w')).toEqual({ A: 'x=y' });
    expect(() => parseExtraArgs('--no-cache', 'w')).toThrow(/only build arguments/);
  });

  it('chain order: bases first, only what the wanted images need', () => {
    const bf = file('  - { name: c, base: "image:b" }\n  - { name: b, base: "image:a" }\n  - { name: a }\n  - { name: z }\n');
    expect(orderImages(bf).map((i) => i.spec.name)).toEqual(['a', 'b', 'c', 'z']);
    expect(orderImages(bf, ['b']).map((i) => i.spec.name)).toEqual(['a', 'b']);
    const self = file('  - { name: s, base: "image:s" }\n');
    expect(() => orderImages(self)).toThrow(/image chain s -> s is a cycle/);
  });
});
