// Change notifications over webhooks. microsoft-graph-docs-contrib:
// api-reference/v1.0/resources/subscription.md (maximum lengths),
// api/subscription-post-subscriptions.md, api/subscription-update.md,
// api/subscription-delete.md, concepts/change-notifications-delivery-webhooks.md
// (validation handshake, notification payload), concepts/change-notifications-lifecycle-events.md.
import { randomUUID } from 'node:crypto';
import type { Call, Change, Shared } from './context.ts';
import { need } from './context.ts';
import { GraphError, graphErrors } from './errors.ts';
import { newSubscriptionId } from './mailbox.ts';

export type Subscription = {
  id: string; userId: string; tenantId: string; clientId: string; resource: string; changeType: string; notificationUrl: string;
  lifecycleNotificationUrl?: string; clientState?: string; expirationMs: number; immutableIds: boolean; creatorId: string;
  /** What the resource names: the kind and the container (calendar or task list id). */
  kind: 'event' | 'todoTask'; container: string;
};
export type Delivery = { url: string; body: unknown; status?: number; error?: string };

// resources/subscription.md: Outlook event 10,080 minutes (under 7 days), todoTask 4,230 minutes.
const MAX_MINUTES = { event: 10_080, todoTask: 4_230 };
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class Subscriptions {
  readonly all = new Map<string, Subscription>();
  readonly deliveries: Delivery[] = [];
  readonly #pending = new Set<Promise<void>>();
  handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS;
  readonly #s: Shared;

  constructor(s: Shared) {
    this.#s = s;
  }

  /** "me/events", "me/calendars/{id}/events", "users/{id}/events", "me/todo/lists/{id}/tasks" (and /users/{id}/ forms). */
  #resolve(call: Call, resource: string): { kind: 'event' | 'todoTask'; container: string; userId: string } {
    const m = /^\/?(?:me|users\/([^/]+))\/(events|calendars\/([^/]+)\/events|todo\/lists\/([^/]+)\/tasks)$/i.exec(resource);
    const user = m?.[1] ? this.#s.dir.userByIdOrUpn(m[1]) : call.token.userId ? call.user : undefined;
    if (!m || !user) throw new GraphError(400, 'InvalidRequest', `Resource '${resource}' is not supported.`);
    if (m[4]) {
      const list = this.#s.mail.lists.get(m[4]);
      if (!list || list.userId !== user.id) throw graphErrors.notFound();
      return { kind: 'todoTask', container: list.id, userId: user.id };
    }
    const cal = m[3] ? this.#s.mail.calendars.get(m[3]) : this.#s.mail.defaultCalendar(user.id);
    if (!cal || cal.userId !== user.id) throw graphErrors.notFound();
    return { kind: 'event', container: cal.id, userId: user.id };
  }

  render(sub: Subscription): Record<string, unknown> {
    return {
      id: sub.id, resource: sub.resource, applicationId: sub.clientId, changeType: sub.changeType, clientState: sub.clientState ?? null,
      notificationUrl: sub.notificationUrl, lifecycleNotificationUrl: sub.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(sub.expirationMs).toISOString(),
      creatorId: sub.creatorId, includeResourceData: false, latestSupportedTlsVersion: 'v1_2', encryptionCertificate: null, encryptionCertificateId: null, notificationUrlAppId: null, notificationQueryOptions: null,
    };
  }

  #expiration(kind: 'event' | 'todoTask', value: unknown): number {
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) throw new GraphError(400, 'InvalidRequest', 'expirationDateTime is a required property for subscription creation.');
    const max = MAX_MINUTES[kind];
    if (ms > this.#s.clock.now() + max * 60_000) throw new GraphError(400, 'InvalidRequest', `Subscription expiration can only be ${max} minutes in the future.`);
    if (ms <= this.#s.clock.now()) throw new GraphError(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
    return ms;
  }

  /**
   * The validation handshake (change-notifications-delivery-webhooks.md): POST
   * {url}?validationToken=… (text/plain); the endpoint must answer 200 with the
   * token as text/plain within 10 seconds, else the create fails with 400.
   */
  async #validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    let res: Response;
    try {
      res = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', signal: AbortSignal.timeout(this.handshakeTimeoutMs) });
    } catch {
      throw new GraphError(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    }
    const text = await res.text();
    if (res.status !== 200) throw new GraphError(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    if (text !== token) throw new GraphError(400, 'ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.');
  }

  async create(call: Call): Promise<{ status: number; body: unknown }> {
    const b = call.body();
    for (const k of ['changeType', 'notificationUrl', 'resource'] as const)
      if (typeof b[k] !== 'string') throw new GraphError(400, 'InvalidRequest', `${k} is a required property for subscription creation.`);
    const where = this.#resolve(call, b.resource as string);
    if (where.kind === 'event') need(call, 'Calendars.Read', 'Calendars.ReadWrite');
    else need(call, 'Tasks.Read', 'Tasks.ReadWrite');
    const bad = (b.changeType as string).split(',').filter((c) => !['created', 'updated', 'deleted'].includes(c.trim()));
    if (bad.length) throw new GraphError(400, 'InvalidRequest', `Unsupported changeType '${bad[0]}'.`);
    const expirationMs = this.#expiration(where.kind, b.expirationDateTime);
    const notificationUrl = b.notificationUrl as string;
    if (!/^https:\/\//.test(notificationUrl) && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(notificationUrl))
      throw new GraphError(400, 'InvalidRequest', 'The Notification Url must be HTTPS.');
    await this.#validate(notificationUrl);
    if (typeof b.lifecycleNotificationUrl === 'string') await this.#validate(b.lifecycleNotificationUrl);
    const sub: Subscription = {
      id: newSubscriptionId(), userId: where.userId, tenantId: call.token.tenantId, clientId: call.token.clientId, resource: b.resource as string,
      changeType: b.changeType as string, notificationUrl, expirationMs, immutableIds: call.prefs.immutableIds, creatorId: call.token.userId ?? call.token.clientId,
      kind: where.kind, container: where.container,
    };
    if (typeof b.lifecycleNotificationUrl === 'string') sub.lifecycleNotificationUrl = b.lifecycleNotificationUrl;
    if (typeof b.clientState === 'string') sub.clientState = b.clientState;
    this.all.set(sub.id, sub);
    return { status: 201, body: { '@odata.context': `${this.#s.baseUrl()}/v1.0/$metadata#subscriptions/$entity`, ...this.render(sub) } };
  }

  #own(call: Call, id: string): Subscription {
    const sub = this.all.get(id);
    if (!sub || sub.clientId !== call.token.clientId || sub.expirationMs <= this.#s.clock.now())
      throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
    return sub;
  }

  renew(call: Call, id: string): { status: number; body: unknown } {
    const sub = this.#own(call, id);
    sub.expirationMs = this.#expiration(sub.kind, call.body().expirationDateTime);
    return { status: 200, body: this.render(sub) };
  }

  get(call: Call, id: string): { status: number; body: unknown } {
    return { status: 200, body: this.render(this.#own(call, id)) };
  }

  list(call: Call): { status: number; body: unknown } {
    const now = this.#s.clock.now();
    return { status: 200, body: { value: [...this.all.values()].filter((s) => s.clientId === call.token.clientId && s.expirationMs > now).map((s) => this.render(s)) } };
  }

  remove(call: Call, id: string): { status: number } {
    this.all.delete(this.#own(call, id).id);
    return { status: 204 };
  }

  #post(url: string, body: unknown): void {
    const d: Delivery = { url, body };
    this.deliveries.push(d);
    const p = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body), signal: AbortSignal.timeout(3_000) })
      .then(async (r) => { d.status = r.status; await r.arrayBuffer(); })
      .catch((e: unknown) => { d.error = String(e); })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** A change notification to every live subscription on the item's container (webhooks doc, "Change notification example"). */
  notify(c: Change): void {
    const now = this.#s.clock.now();
    for (const sub of this.all.values()) {
      if (sub.kind !== c.kind || sub.container !== c.container || sub.expirationMs <= now) continue;
      if (!sub.changeType.split(',').map((x) => x.trim()).includes(c.changeType)) continue;
      const id = sub.immutableIds ? c.immutableId : c.restId;
      const user = this.#s.dir.users.get(c.userId)!;
      const resource = c.kind === 'event' ? `Users/${user.id}/Events/${id}` : `Users/${user.id}/todo/lists/${c.container}/tasks/${id}`;
      const odataType = c.kind === 'event' ? '#Microsoft.Graph.Event' : '#Microsoft.Graph.todoTask';
      const n: Record<string, unknown> = {
        subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expirationMs).toISOString(), changeType: c.changeType, resource,
        resourceData: { '@odata.type': odataType, '@odata.id': resource, '@odata.etag': c.etag, id }, clientState: sub.clientState ?? null, tenantId: sub.tenantId,
      };
      this.#post(sub.notificationUrl, { value: [n] });
    }
  }

  /** concepts/change-notifications-lifecycle-events.md: reauthorizationRequired, subscriptionRemoved (the subscription is gone), missed. */
  lifecycle(id: string, lifecycleEvent: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): void {
    const sub = this.all.get(id);
    if (!sub?.lifecycleNotificationUrl) throw new Error(`subscription ${id} has no lifecycleNotificationUrl`);
    if (lifecycleEvent === 'subscriptionRemoved') this.all.delete(id);
    this.#post(sub.lifecycleNotificationUrl, {
      value: [{ subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expirationMs).toISOString(), tenantId: sub.tenantId, clientState: sub.clientState ?? null, lifecycleEvent }],
    });
  }

  async flush(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }
}
