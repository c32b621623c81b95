/**
 * Retry policy for registry requests: exponential backoff with full jitter on
 * 408, 429, 5xx, connection resets and timeouts; `Retry-After` wins when the
 * registry sends it (capped). The retry handler of the middleware chain
 * (http.ts) lives here, driven by an injected `Clock` so tests never sleep.
 * A `RetryBudget` shared by several requests bounds a whole operation (an
 * upload's PATCHes, PUTs and resumes), and `resume` lets the caller decide
 * what to send next after a failure (a resume is not a replay).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { OciasmError } from '../errors.js';
import { header, type HttpRequest, type HttpResponse, type Middleware } from './http.js';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound for a Retry-After the registry asks for. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** Connection resets and timeouts (undici and Node system errors, also as `cause`). */
export function isRetryableError(e: unknown): boolean {
  for (let cur = e as { code?: unknown; cause?: unknown } | undefined, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) {
    if (typeof cur.code === 'string' && RETRYABLE_CODES.has(cur.code)) return true;
  }
  return false;
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The wait before attempt `attempt + 1` (attempt counts from 1): full jitter, capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {});
}

/** Time as the retry handler sees it; tests pass a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep };

/** Failures survived so far against a maximum, shared by every request of one operation. */
export class RetryBudget {
  failures = 0;
  constructor(readonly attempts: number) {}
}

export interface RetryFailure {
  /** A status worth retrying, or a retryable connection error. */
  status?: number;
  error?: unknown;
  retryAfterMs?: number;
  /** "PUT answered 503", "other side closed". */
  message: string;
}

export interface RetryControl {
  /** Shared across requests (an upload); default: a fresh budget of the policy's attempts. */
  budget?: RetryBudget;
  /** Statuses retried besides 408/429/5xx (uploads: 416). */
  alsoStatus?: number[];
  /** Names the operation in debug lines ("upload of blob …"); default: method and what. */
  label?: string;
  /** After the wait, before the next attempt: the request to send instead (a resume). */
  resume?: (failure: RetryFailure) => Promise<HttpRequest>;
  /** The error when the budget is spent; default: return the last response, or rethrow the error. */
  giveUp?: (failures: number, failure: RetryFailure) => Error;
}

export interface RetryLayerOptions {
  policy: RetryPolicy;
  clock: Clock;
  random: () => number;
  debug?: (message: string) => void;
}

/**
 * The retry handler: 408/429/5xx (and `alsoStatus`) and dropped connections
 * are retried until the budget is spent; an OciasmError (auth, limits,
 * deadline) never is.
 */
export function retryLayer(o: RetryLayerOptions): Middleware {
  return (next) => async (first) => {
    let req = first;
    if (req.retry === false) return next(req);
    const ctl = req.retry ?? {};
    const budget = ctl.budget ?? new RetryBudget(o.policy.attempts);
    for (;;) {
      let failure: RetryFailure;
      let res: HttpResponse | undefined;
      try {
        res = await next(req);
      } catch (e) {
        if (e instanceof OciasmError || !isRetryableError(e)) throw e;
        failure = { error: e, message: (e as Error).message };
        if (budget.failures + 1 >= budget.attempts) {
          budget.failures++;
          throw ctl.giveUp ? ctl.giveUp(budget.failures, failure) : e;
        }
      }
      if (res) {
        if (!(isRetryableStatus(res.status) || ctl.alsoStatus?.includes(res.status))) return res;
        failure = {
          status: res.status, message: `${req.method} answered ${res.status}`,
          ...optional('retryAfterMs', parseRetryAfter(header(res, 'retry-after'), o.clock.now())),
        };
        if (budget.failures + 1 >= budget.attempts) {
          budget.failures++;
          if (!ctl.giveUp) return res;
          await res.body.dump();
          throw ctl.giveUp(budget.failures, failure);
        }
        await res.body.dump();
      }
      budget.failures++;
      const wait = backoffDelay(budget.failures, o.policy, o.random, failure!.retryAfterMs);
      const why = failure!.status !== undefined && !ctl.label ? `${failure!.status}` : failure!.message;
      o.debug?.(`${ctl.label ?? `${req.method} ${req.what}`}: ${why}; retrying in ${wait} ms`);
      await o.clock.sleep(wait, req.signal);
      if (ctl.resume) req = await ctl.resume(failure!);
    }
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
