/**
 * A real HTTP proxy in front of the test registry that counts requests and
 * injects faults: a status (503/429 with Retry-After) instead of forwarding,
 * or a connection dropped in the middle of a request body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  status?: number;
  /** Request body bytes that reached the registry. */
  bytes: number;
}

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Forwards `afterBytes` of the body, then drops both connections; the registry sees a truncated body. */
  | { kind: 'drop-mid-body'; afterBytes: number }
  /** Reads part of the body and drops the client's connection without forwarding anything. */
  | { kind: 'drop-before' }
  /** Forwards, and adds headers to the registry's response. */
  | { kind: 'add-headers'; headers: Record<string, string> };

export interface FaultRule {
  method?: string;
  /** Matched against the path (without query). */
  path?: RegExp;
  /** Matching requests to let through first (default 0). */
  skip?: number;
  /** How many matching requests to hit (default 1); then the rule is spent. */
  times?: number;
  fault: Fault;
}

export interface FaultProxy {
  host: string;
  requests: SeenRequest[];
  faults: FaultRule[];
  /** How many requests matched a fault. */
  injected: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  const proxy: FaultProxy = { host: '', requests: [], faults: [], injected: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    const seen: SeenRequest = { method: req.method ?? 'GET', path: p, bytes: 0 };
    proxy.requests.push(seen);
    let rule = proxy.faults.find((r) => (!r.method || r.method === req.method) && (!r.path || r.path.test(p)) && (r.times ?? 1) > 0);
    if (rule?.skip) {
      rule.skip--;
      rule = undefined;
    }
    if (rule) {
      rule.times = (rule.times ?? 1) - 1;
      proxy.injected++;
    }
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      req.resume();
      seen.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}');
      return;
    }
    if (fault?.kind === 'drop-before') {
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      seen.status = ur.statusCode;
      res.writeHead(ur.statusCode ?? 502, { ...ur.headers, ...(fault?.kind === 'add-headers' ? fault.headers : {}) });
      ur.pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    req.on('data', (chunk: Buffer) => {
      if (fault?.kind === 'drop-mid-body') {
        const room = fault.afterBytes - seen.bytes;
        if (room <= 0) return;
        const part = chunk.subarray(0, room);
        seen.bytes += part.length;
        up.write(part);
        if (seen.bytes >= fault.afterBytes) {
          up.destroy();
          req.socket.destroy();
        }
        return;
      }
      seen.bytes += chunk.length;
      up.write(chunk);
    });
    req.on('end', () => up.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return proxy;
}
