// Push notification channels (events.watch / channels.stop): a "sync"
// message on creation, then "exists" messages after changes to the calendar,
// sent as Google does: POST, empty body, X-Goog-* headers. Messages may be
// dropped or duplicated on purpose (notification faults).
//
// The message is the one of Google's push guide (Receiving notifications,
// https://developers.google.com/calendar/api/guides/push): POST with
// `Content-Type: application/json; utf-8` and `Content-Length: 0` (a JSON type
// with an empty body, which a strict JSON parser refuses), X-Goog-Channel-ID,
// X-Goog-Channel-Token (when the channel has one), X-Goog-Channel-Expiration
// (an HTTP date), X-Goog-Resource-ID, X-Goog-Resource-URI,
// X-Goog-Resource-State (`sync` first, then `exists` / `not_exists`) and
// X-Goog-Message-Number (1 for the sync message, increasing after it).
import type { calendar_v3 } from 'googleapis';
import { errors, GoogleApiError } from './errors.ts';
import type { Calendar } from './store.ts';
import { randomToken } from './store.ts';

type Channel = {
  id: string;
  resourceId: string;
  resourceUri: string;
  token?: string;
  expiration: number;
  address: string;
  calendarId: string;
  messageNumber: number;
  stopped: boolean;
  timer?: NodeJS.Timeout;
  queue: Promise<void>;
};

export type NotificationFaults = { drop: number; duplicate: number; random: () => number };
export type ChannelInfo = { id: string; resourceId: string; resourceUri: string; token?: string; expiration: number; address: string; calendarId: string; stopped: boolean };
export type Delivery = { channelId: string; state: string; messageNumber: number; status: number | 'error' | 'dropped' };

const DEFAULT_TTL_MS = 7 * 86_400_000;
const MAX_TTL_MS = 30 * 86_400_000;
const DEBOUNCE_MS = 25;
const RETRIED = [500, 502, 503, 504];
const MAX_RETRIES = 3;
/** Backoff of retried messages, compressed from Google's minutes to test time. */
const RETRY_BASE_MS = 50;

function isLocalAddress(address: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(address.hostname);
}

export class Channels {
  faults: NotificationFaults = { drop: 0, duplicate: 0, random: Math.random };
  deliveries: Delivery[] = [];
  private channels = new Map<string, Channel>();
  private pending = new Set<Promise<void>>();
  private baseUrl: () => string;

  constructor(baseUrl: () => string) {
    this.baseUrl = baseUrl;
  }

  watch(cal: Calendar, calendarIdAsWritten: string, body: Record<string, unknown>): calendar_v3.Schema$Channel {
    const id = body.id;
    if (typeof id !== 'string' || !id) throw errors.required('Required: id');
    if (body.type !== 'web_hook' && body.type !== 'webhook') throw errors.badRequest(`Invalid value for type: ${String(body.type)}`, 'invalid');
    let address: URL;
    try {
      address = new URL(String(body.address ?? ''));
    } catch {
      throw errors.required('Required: address');
    }
    if (address.protocol !== 'https:' && !isLocalAddress(address)) {
      throw new GoogleApiError(400, { domain: 'global', reason: 'push.webhookUrlNotHttps', message: `WebHook callback must be HTTPS: ${address}` });
    }
    if (this.channels.has(id)) throw new GoogleApiError(400, { domain: 'global', reason: 'channelIdNotUnique', message: `Channel id ${id} not unique` });
    const now = Date.now();
    const ttl = Number((body.params as Record<string, unknown> | undefined)?.ttl);
    const requested = body.expiration != null ? Number(body.expiration) : ttl > 0 ? now + ttl * 1000 : undefined;
    const expiration = requested && requested > now ? Math.min(requested, now + MAX_TTL_MS) : now + DEFAULT_TTL_MS;
    const ch: Channel = {
      id,
      resourceId: randomToken(20),
      resourceUri: `${this.baseUrl()}/calendar/v3/calendars/${encodeURIComponent(calendarIdAsWritten)}/events?alt=json`,
      ...(typeof body.token === 'string' ? { token: body.token } : {}),
      expiration,
      address: address.toString(),
      calendarId: cal.id,
      messageNumber: 0,
      stopped: false,
      queue: Promise.resolve(),
    };
    this.channels.set(id, ch);
    this.send(ch, 'sync');
    const out: calendar_v3.Schema$Channel = { kind: 'api#channel', id, resourceId: ch.resourceId, resourceUri: ch.resourceUri };
    if (ch.token !== undefined) out.token = ch.token;
    out.expiration = String(expiration);
    return out;
  }

  stop(body: Record<string, unknown>): void {
    const ch = this.channels.get(String(body.id ?? ''));
    if (!ch || ch.stopped || ch.resourceId !== body.resourceId) {
      throw new GoogleApiError(404, { domain: 'global', reason: 'notFound', message: `Channel '${String(body.id ?? '')}' not found for project` });
    }
    ch.stopped = true;
    clearTimeout(ch.timer);
  }

  /** The channels made so far, as their makers asked for them (tests post notifications of their own with them). */
  list(): ChannelInfo[] {
    return [...this.channels.values()].map((ch) => ({
      id: ch.id,
      resourceId: ch.resourceId,
      resourceUri: ch.resourceUri,
      ...(ch.token !== undefined ? { token: ch.token } : {}),
      expiration: ch.expiration,
      address: ch.address,
      calendarId: ch.calendarId,
      stopped: ch.stopped,
    }));
  }

  /** A change to the calendar: every live channel on it gets an "exists" message soon. */
  changed(calendarId: string): void {
    for (const ch of this.channels.values()) {
      if (ch.calendarId !== calendarId || ch.stopped || ch.timer) continue;
      ch.timer = setTimeout(() => {
        ch.timer = undefined;
        this.send(ch, 'exists');
      }, DEBOUNCE_MS);
    }
  }

  private send(ch: Channel, state: string): void {
    if (ch.stopped || Date.now() >= ch.expiration) return;
    const messageNumber = ++ch.messageNumber;
    const r = this.faults.random();
    if (r < this.faults.drop) {
      this.deliveries.push({ channelId: ch.id, state, messageNumber, status: 'dropped' });
      return;
    }
    const copies = this.faults.random() < this.faults.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const p = (ch.queue = ch.queue.then(() => this.post(ch, state, messageNumber)));
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }

  private async post(ch: Channel, state: string, messageNumber: number): Promise<void> {
    const headers: Record<string, string> = {
      // with the empty body below, fetch sends Content-Length: 0
      'Content-Type': 'application/json; utf-8',
      'X-Goog-Channel-ID': ch.id,
      'X-Goog-Channel-Expiration': new Date(ch.expiration).toUTCString(),
      'X-Goog-Resource-ID': ch.resourceId,
      'X-Goog-Resource-URI': ch.resourceUri,
      'X-Goog-Resource-State': state,
      'X-Goog-Message-Number': String(messageNumber),
      'User-Agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
    };
    if (ch.token !== undefined) headers['X-Goog-Channel-Token'] = ch.token;
    for (let attempt = 0; ; attempt++) {
      let status: number | 'error';
      try {
        const res = await fetch(ch.address, { method: 'POST', headers, body: '', signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 'error';
      }
      this.deliveries.push({ channelId: ch.id, state, messageNumber, status });
      // Google retries 500/502/503/504 with exponential backoff; other answers end the message.
      if (typeof status !== 'number' || !RETRIED.includes(status) || attempt >= MAX_RETRIES || ch.stopped) return;
      await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** attempt));
    }
  }

  /** Waits until every queued message has been delivered (or failed). */
  async flush(): Promise<void> {
    for (const ch of this.channels.values()) if (ch.timer) {
      clearTimeout(ch.timer);
      ch.timer = undefined;
      this.send(ch, 'exists');
    }
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    for (const ch of this.channels.values()) {
      ch.stopped = true;
      clearTimeout(ch.timer);
    }
    await Promise.allSettled([...this.pending]);
  }
}
