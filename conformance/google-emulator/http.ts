// Request/response plumbing on node:http and a small router that matches the
// googleapis URL templates ("/calendar/v3/calendars/{calendarId}/events").
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GoogleApiError } from './errors.ts';

export type Req = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  params: Record<string, string>;
  rawBody: string;
  raw: IncomingMessage;
  res: ServerResponse;
};

export type Reply = { status: number; body?: unknown; headers?: Record<string, string>; html?: string };
export type Handler = (req: Req) => Promise<Reply> | Reply;
export type Route = { method: string; template: string; handler: Handler; parts: string[] };

export function route(method: string, template: string, handler: Handler): Route {
  return { method, template, handler, parts: template.split('/') };
}

export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | 'wrong-method' | undefined {
  const parts = path.split('/');
  let pathMatched = false;
  for (const r of routes) {
    if (r.parts.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const want = r.parts[i]!;
      const got = parts[i]!;
      if (want.startsWith('{')) {
        // '{personId}:updateContact': a parameter followed by a custom method (People API, gRPC transcoding)
        const close = want.indexOf('}');
        const suffix = want.slice(close + 1);
        if (got.length <= suffix.length || !got.endsWith(suffix)) ok = false;
        else params[want.slice(1, close)] = decodeURIComponent(got.slice(0, got.length - suffix.length));
      } else if (want !== got) ok = false;
    }
    if (!ok) continue;
    pathMatched = true;
    if (r.method === method) return { route: r, params };
  }
  return pathMatched ? 'wrong-method' : undefined;
}

export async function readBody(req: IncomingMessage, limit = 5 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new GoogleApiError(413, { domain: 'global', reason: 'uploadTooLarge', message: 'Request too large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function jsonBody(req: Req): Record<string, unknown> {
  if (req.rawBody.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(req.rawBody);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new GoogleApiError(400, { domain: 'global', reason: 'parseError', message: 'Parse Error' });
}

export function formBody(req: Req): URLSearchParams {
  return new URLSearchParams(req.rawBody);
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload = '';
  if (reply.html !== undefined) {
    headers['content-type'] = 'text/html; charset=utf-8';
    payload = reply.html;
  } else if (reply.body !== undefined) {
    headers['content-type'] ??= 'application/json; charset=UTF-8';
    payload = JSON.stringify(reply.body, null, 1);
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function errorReply(e: GoogleApiError): Reply {
  return { status: e.code, body: e.body(), headers: e.headers };
}

/** Integer query parameter, or a 400 like Google's for a malformed one. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v)) throw new GoogleApiError(400, { domain: 'global', reason: 'invalidParameter', message: `Invalid value '${v}'. Values must match the following regular expression: '-?\\d+'`, location: name, locationType: 'parameter' });
  return Number(v);
}

export function boolParam(query: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = query.get(name);
  if (v === null) return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new GoogleApiError(400, { domain: 'global', reason: 'invalidBoolean', message: `Invalid boolean value: '${v}'.`, location: name, locationType: 'parameter' });
}
