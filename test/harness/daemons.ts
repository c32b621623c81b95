/**
 * Private image daemons for the tests, each in its own short temp folder
 * (unix socket paths are limited to 108 bytes): Debian's dockerd (vfs
 * storage, no networking, no cgroups),
 * containerd (a private root, state and socket, the CRI plugin off) and
 * podman's Docker-compatible API service (a private vfs store).
 * stop() ends the daemon by its pid, waits for it, and removes the folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { run } from './util.js';

/** Debian's docker CLI (docker.io), the one that matches its dockerd. */
export const DOCKER_CLI = '/usr/bin/docker';

export interface TestDaemon {
  dir: string;
  socket: string;
  /** For DOCKER_HOST. */
  host: string;
  log(): string;
  stop(): Promise<void>;
}

function ping(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
  });
}

async function until(ready: () => Promise<boolean>, proc: ChildProcess, what: string, log: () => string, tries = 240): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited ${proc.exitCode}:\n${log()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready:\n${log()}`);
}

function stopper(proc: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // vfs layers and containerd's mounts are plain folders here.
    await run('umount', ['-R', '-l', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
}

function spawnLogged(cmd: string, args: string[], dir: string): { proc: ChildProcess; log: () => string } {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (c: Buffer) => { text = (text + c.toString('utf8')).slice(-20_000); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  writeFileSync(`${dir}/cmd`, `${cmd} ${args.join(' ')}\n`);
  return { proc, log: () => text };
}

/** Starts a private dockerd; its API answers on `socket`. */
export async function startDockerd(): Promise<TestDaemon> {
  const dir = mkdtempSync('/tmp/odk-');
  const socket = `${dir}/sock`;
  const { proc, log } = spawnLogged('dockerd', [
    '--data-root', `${dir}/root`, '--exec-root', `${dir}/exec`, '--pidfile', `${dir}/pid`, '-H', `unix://${socket}`,
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-masq=false', '--storage-driver=vfs',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
  ], dir);
  const stop = stopper(proc, dir);
  try {
    await until(async () => (await ping(socket, '/_ping')) === 200, proc, 'dockerd', log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, socket, host: `unix://${socket}`, log, stop };
}

/** Starts a private containerd (no CRI); `ctr -a socket` talks to it. */
export async function startContainerd(): Promise<TestDaemon> {
  const dir = mkdtempSync('/tmp/ocd-');
  const socket = `${dir}/sock`;
  writeFileSync(`${dir}/config.toml`, [
    'version = 2', `root = "${dir}/root"`, `state = "${dir}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`, '[debug]', `  address = "${dir}/debug.sock"`, '[metrics]', '  address = ""', '',
  ].join('\n'));
  const { proc, log } = spawnLogged('containerd', ['--config', `${dir}/config.toml`], dir);
  const stop = stopper(proc, dir);
  try {
    await until(async () => (await run('ctr', ['-a', socket, 'version'])).code === 0, proc, 'containerd', log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, socket, host: `unix://${socket}`, log, stop };
}

/** Starts podman's Docker-compatible API service on a private vfs store. */
export async function startPodmanService(): Promise<TestDaemon & { podman: (args: string[]) => string[] }> {
  const dir = mkdtempSync('/tmp/opm-');
  const socket = `${dir}/sock`;
  const store = ['--root', `${dir}/root`, '--runroot', `${dir}/run`, '--storage-driver', 'vfs'];
  const { proc, log } = spawnLogged('podman', [...store, 'system', 'service', '--time=0', `unix://${socket}`], dir);
  const stop = stopper(proc, dir);
  try {
    await until(async () => (await ping(socket, '/_ping')) === 200, proc, 'podman system service', log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, socket, host: `unix://${socket}`, log, stop, podman: (args) => [...store, ...args] };
}
