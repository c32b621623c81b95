// Time from process start to the first TCP connection a push opens to the
// registry: start-up and module loading, nothing of the upload. A loopback
// listener notes the moment and hangs up; the pusher is then killed.
//   node bench/push-startup.mjs LAYOUT:REF [rounds]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { CLI, median } from './lib.mjs';

async function once(cmd, args, port) {
  const server = net.createServer();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const t0 = performance.now();
  const child = spawn(cmd, args(port), { stdio: 'ignore' });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd}: no connection within 20 s`)), 20000);
      server.once('connection', (s) => { clearTimeout(timer); resolve((performance.now() - t0) / 1000); s.destroy(); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited ${code} before connecting`)); });
    });
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => server.close(r));
  }
}

/** Median seconds to the first request, per command, alternated over `rounds`. */
export async function pushStartup(layoutRef, rounds = 5, port = 45873) {
  const [dir, ...ref] = layoutRef.split(':');
  const cmds = {
    'ociasm push': [process.execPath, (p) => [CLI, 'push', layoutRef, `127.0.0.1:${p}/startup/x:1`]],
    'skopeo copy': ['skopeo', (p) => ['copy', '--dest-tls-verify=false', `oci:${dir}:${ref.join(':')}`, `docker://127.0.0.1:${p}/startup/x:1`]],
  };
  const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, [cmd, args]] of Object.entries(cmds)) samples[name].push(await once(cmd, args, port));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, median(s)]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await pushStartup(process.argv[2], Number(process.argv[3] ?? 5)));
}
