// Injected failures: a number of planned faults matched by method/path, or
// random ones at a seeded rate. Kinds answer like Google's front end
// (403/429 rateLimitExceeded, 500/503 backendError) or break the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, peopleError } from './errors.ts';
import type { GoogleApiError } from './errors.ts';
import { errorReply, send } from './http.ts';

export type FaultKind = 'rateLimit403' | 'userRateLimit403' | '429' | '500' | '503' | 'timeout' | 'reset';
export type FaultMatch = { method?: string; pathIncludes?: string };
export type FaultSpec = { match?: FaultMatch; kind: FaultKind; times?: number; retryAfter?: number; delayMs?: number };
export type FaultRateSpec = { kind: FaultKind; probability: number; seed?: number; match?: FaultMatch; retryAfter?: number; delayMs?: number };

/** Deterministic PRNG (mulberry32) so seeded fault runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ERRORS: Record<string, () => GoogleApiError> = {
  rateLimit403: errors.rateLimit403,
  userRateLimit403: errors.userRateLimit403,
  '429': errors.rateLimit429,
  '500': errors.backendError,
  '503': errors.unavailable,
};

const PEOPLE_QUOTA = () =>
  peopleError(429, 'RESOURCE_EXHAUSTED', "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'people.googleapis.com' for consumer 'project_number:0'.", {
    reason: 'RATE_LIMIT_EXCEEDED',
    metadata: { service: 'people.googleapis.com', quota_metric: 'people.googleapis.com/write_requests', quota_limit: 'WriteRequestsPerMinutePerUser' },
  });

function matches(match: FaultMatch | undefined, method: string, path: string): boolean {
  if (!match?.pathIncludes && !/^\/(calendar|tasks|v1)\//.test(path)) return false;
  if (match?.method && match.method.toUpperCase() !== method) return false;
  if (match?.pathIncludes && !path.includes(match.pathIncludes)) return false;
  return true;
}

export class Faults {
  private planned: (FaultSpec & { left: number })[] = [];
  private rates: { spec: FaultRateSpec; random: () => number }[] = [];
  private held = new Set<ServerResponse>();
  injected: { kind: FaultKind; method: string; path: string }[] = [];

  add(spec: FaultSpec): void {
    this.planned.push({ ...spec, left: spec.times ?? 1 });
  }
  addRate(spec: FaultRateSpec): void {
    this.rates.push({ spec, random: seededRandom(spec.seed ?? 1) });
  }
  clear(): void {
    this.planned = [];
    this.rates = [];
  }

  /** The fault to inject into this request, if any (planned ones first). */
  take(method: string, path: string): FaultSpec | undefined {
    const p = this.planned.find((f) => f.left > 0 && matches(f.match, method, path));
    if (p) {
      p.left--;
      return p;
    }
    for (const r of this.rates) {
      if (matches(r.spec.match, method, path) && r.random() < r.spec.probability) return r.spec;
    }
    return undefined;
  }

  inject(fault: FaultSpec, req: IncomingMessage, res: ServerResponse, path: string): void {
    this.injected.push({ kind: fault.kind, method: req.method ?? '', path });
    if (fault.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault.kind === 'timeout') {
      // Accept the request and never answer; the connection is dropped after delayMs.
      this.held.add(res);
      const timer = setTimeout(() => {
        this.held.delete(res);
        req.socket.destroy();
      }, fault.delayMs ?? 30_000);
      res.on('close', () => {
        clearTimeout(timer);
        this.held.delete(res);
      });
      return;
    }
    // the People API (/v1/…) answers in its own shape: 429 RESOURCE_EXHAUSTED with an ErrorInfo reason
    const reply = errorReply(path.startsWith('/v1/') && fault.kind !== '500' && fault.kind !== '503' ? PEOPLE_QUOTA() : ERRORS[fault.kind]!());
    if (fault.retryAfter !== undefined) reply.headers = { ...reply.headers, 'retry-after': String(fault.retryAfter) };
    send(res, reply);
  }

  /** Drops the requests held by timeout faults (on close). */
  releaseHeld(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }
}
