import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { resolveFolder, type OpContext } from './context.ts'
import { attempt, envelope, ItemError, response, responseMessage, SoapFault } from './soap.ts'
import type { MailboxEvent, Store } from './store.ts'
import { child, childrenOf, el, NS, tv, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * Notification subscriptions as Exchange 2010 SP1 and later keep them
 * (exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange.md):
 *
 * - Subscribe (web-service-reference/subscribe-operation.md) with a
 *   StreamingSubscriptionRequest or a PullSubscriptionRequest for folders of
 *   the acting mailbox and a set of event types; the answer holds the
 *   SubscriptionId (and, for pull, the first Watermark);
 * - GetStreamingEvents (web-service-reference/getstreamingevents-operation.md):
 *   a hanging request whose HTTP answer is chunked, one SOAP envelope per
 *   batch of events as they happen, a ConnectionStatus OK envelope as
 *   keep-alive, and ConnectionStatus Closed when ConnectionTimeout minutes
 *   have passed (at most 30);
 * - GetEvents (web-service-reference/getevents-operation.md): the events
 *   after a watermark, a StatusEvent when there are none;
 * - Unsubscribe (web-service-reference/unsubscribe-operation.md).
 *
 * A subscription that is unknown, expired (a streaming one 30 minutes after
 * its last connection closed, a pull one Timeout minutes after its last
 * GetEvents) or unsubscribed answers ErrorSubscriptionNotFound in the
 * per-item error form, with ConnectionStatus Closed on a stream
 * (exchange-web-services/handling-notification-related-errors-in-ews-in-exchange.md).
 * Every envelope a stream sends goes through the same schema record as the
 * other answers.
 */

type Event = MailboxEvent & { watermark: string }

type Stream = {
  ids: Set<string>
  timers: NodeJS.Timeout[]
  send: (body: string) => void
  ok: (inner: string) => string
  end: (how: 'closed' | 'dropped') => void
}

type Subscription = {
  id: string
  mailbox: string
  kind: 'streaming' | 'pull'
  folders: Set<string>
  types: Set<string>
  /** events not yet delivered (pull: not yet asked for; streaming: no connection open) */
  queue: Event[]
  /** pull: minutes of inactivity before it lapses */
  timeoutMinutes: number
  lastActive: number
  watermark: string
  streams: Set<Stream>
}

export type NotificationOptions = {
  /** the length of an emulated minute (ConnectionTimeout, subscription lifetimes), so tests need not wait for real ones */
  minuteMs?: number
  /** how often an open stream says ConnectionStatus OK */
  keepAliveMs?: number
}

/** Subscriptions a streaming one outlives its last connection by (the docs' 30 minutes). */
const STREAMING_LIFETIME_MINUTES = 30

const notFound = (id: string) => new ItemError('ErrorSubscriptionNotFound', `The specified subscription was not found: ${id}`)

export class Notifications {
  readonly #store: Store
  readonly #subs = new Map<string, Subscription>()
  readonly #minuteMs: number
  readonly #keepAliveMs: number
  readonly #record: (label: string, xml: string) => void
  /** every GetStreamingEvents connection ever opened, for tests */
  opened = 0
  /**
   * Streaming refused, as by a server or a throttling policy that does not
   * allow it (before Exchange 2010 SP1 the schema has no StreamingSubscriptionRequest):
   * clients fall back to pull.
   */
  refuseStreaming = false

  constructor (store: Store, record: (label: string, xml: string) => void, opts: NotificationOptions = {}) {
    this.#store = store
    this.#record = record
    this.#minuteMs = opts.minuteMs ?? 60_000
    this.#keepAliveMs = opts.keepAliveMs ?? 15_000
    store.listeners.push(e => { this.#publish(e) })
  }

  #watermark (): string {
    return randomBytes(24).toString('base64')
  }

  #publish (e: MailboxEvent): void {
    for (const s of this.#live()) {
      if (s.mailbox !== e.mailbox || !s.types.has(e.type)) continue
      if (!s.folders.has(e.folderId) && !(e.old !== null && s.folders.has(e.old.folderId))) continue
      const ev = { ...e, watermark: this.#watermark() }
      s.queue.push(ev)
      for (const stream of s.streams) this.#flush(stream)
    }
  }

  /** Subscriptions still alive; lapsed ones are forgotten. */
  #live (): Subscription[] {
    const now = Date.now()
    for (const s of this.#subs.values()) {
      if (s.streams.size > 0) continue
      const minutes = s.kind === 'pull' ? s.timeoutMinutes : STREAMING_LIFETIME_MINUTES
      if (now - s.lastActive > minutes * this.#minuteMs) this.#subs.delete(s.id)
    }
    return [...this.#subs.values()]
  }

  #find (ctx: OpContext, id: string): Subscription {
    this.#live()
    const s = this.#subs.get(id)
    if (s === undefined || s.mailbox !== ctx.mailbox) throw notFound(id)
    return s
  }

  subscribe = (ctx: OpContext, req: XmlElement): string => {
    const spec = childrenOf(req, NS.m)[0]
    if (spec === undefined) throw new SoapFault('ErrorSchemaValidation', 'The request failed schema validation: Subscribe needs a subscription request.')
    if (spec.name === 'PushSubscriptionRequest') throw new SoapFault('ErrorInvalidRequest', 'Push subscriptions are not emulated; use streaming or pull.')
    if (spec.name === 'StreamingSubscriptionRequest' && this.refuseStreaming) throw new SoapFault('ErrorInvalidRequest', 'Streaming subscriptions are not available on this server.')
    return response('Subscribe', [responseMessage('Subscribe', attempt(() => {
      if (spec.attrs.SubscribeToAllFolders === 'true') throw new ItemError('ErrorInvalidSubscriptionRequest', 'SubscribeToAllFolders is not emulated.')
      const folders = childrenOf(child(spec, NS.t, 'FolderIds'), NS.t).map(ref => resolveFolder(ctx, ref).id)
      if (folders.length === 0) throw new ItemError('ErrorInvalidSubscriptionRequest', 'The subscription names no folder.')
      const kind = spec.name === 'StreamingSubscriptionRequest' ? 'streaming' : 'pull'
      const s: Subscription = {
        id: randomBytes(33).toString('base64'),
        mailbox: ctx.mailbox,
        kind,
        folders: new Set(folders),
        types: new Set(childrenOf(child(spec, NS.t, 'EventTypes'), NS.t, 'EventType').map(e => e.text)),
        queue: [],
        timeoutMinutes: Number(child(spec, NS.t, 'Timeout')?.text ?? STREAMING_LIFETIME_MINUTES),
        lastActive: Date.now(),
        watermark: this.#watermark(),
        streams: new Set()
      }
      this.#subs.set(s.id, s)
      return el('m:SubscriptionId', {}, s.id) + (kind === 'pull' ? el('m:Watermark', {}, s.watermark) : '')
    }))])
  }

  unsubscribe = (ctx: OpContext, req: XmlElement): string => {
    const id = child(req, NS.m, 'SubscriptionId')?.text ?? ''
    return response('Unsubscribe', [responseMessage('Unsubscribe', attempt(() => {
      const s = this.#find(ctx, id)
      this.#subs.delete(s.id)
      for (const stream of s.streams) stream.end('closed')
      return ''
    }))])
  }

  /** Pull: the events since the watermark (all queued ones: the emulator keeps no history behind a watermark). */
  getEvents = (ctx: OpContext, req: XmlElement): string => {
    const id = child(req, NS.m, 'SubscriptionId')?.text ?? ''
    const mark = child(req, NS.m, 'Watermark')?.text ?? ''
    return response('GetEvents', [responseMessage('GetEvents', attempt(() => {
      const s = this.#find(ctx, id)
      if (s.kind !== 'pull') throw new ItemError('ErrorInvalidSubscription', 'The subscription is not a pull subscription.')
      if (mark !== s.watermark) throw new ItemError('ErrorInvalidWatermark', 'The watermark is invalid.')
      s.lastActive = Date.now()
      const events = s.queue.splice(0, 50)
      const previous = s.watermark
      const body = events.length === 0
        ? [el('t:StatusEvent', {}, tv('Watermark', (s.watermark = this.#watermark())))]
        : events.map(e => { s.watermark = e.watermark; return eventXml(e, true) })
      return el('m:Notification', {}, tv('SubscriptionId', s.id), tv('PreviousWatermark', previous), tv('MoreEvents', s.queue.length > 0), ...body)
    }))])
  }

  /**
   * GetStreamingEvents: answers at once with an error envelope when a
   * subscription is unknown, else holds the response open.
   */
  stream (ctx: OpContext, req: XmlElement, res: ServerResponse): void {
    const ids = childrenOf(child(req, NS.m, 'SubscriptionIds'), NS.t, 'SubscriptionId').map(e => e.text)
    const minutes = Number(child(req, NS.m, 'ConnectionTimeout')?.text ?? '')
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 30) {
      throw new SoapFault('ErrorSchemaValidation', 'The request failed schema validation: The \'ConnectionTimeout\' element is invalid - The MaxInclusive constraint failed.')
    }
    this.#live()
    const missing = ids.filter(id => { const s = this.#subs.get(id); return s === undefined || s.mailbox !== ctx.mailbox || s.kind !== 'streaming' })
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
    const send = (body: string) => {
      const xml = envelope(el('m:GetStreamingEventsResponse', {}, el('m:ResponseMessages', {}, body)))
      this.#record('GetStreamingEvents response', xml)
      res.write(xml)
    }
    if (missing.length > 0) {
      send(el('m:GetStreamingEventsResponseMessage', { ResponseClass: 'Error' },
        el('m:MessageText', {}, 'The specified subscription was not found.'),
        el('m:ResponseCode', {}, 'ErrorSubscriptionNotFound'),
        el('m:DescriptiveLinkKey', {}, '0'),
        el('m:ErrorSubscriptionIds', {}, ...missing.map(id => tv('SubscriptionId', id))),
        el('m:ConnectionStatus', {}, 'Closed')))
      res.end()
      return
    }
    this.opened++
    const subs = ids.map(id => this.#subs.get(id)!)
    const ok = (inner: string) => el('m:GetStreamingEventsResponseMessage', { ResponseClass: 'Success' }, el('m:ResponseCode', {}, 'NoError'), inner)
    let ended = false
    const stream: Stream = {
      ids: new Set(ids),
      send,
      ok,
      timers: [],
      end: how => {
        if (ended) return
        ended = true
        for (const t of stream.timers) clearTimeout(t)
        for (const s of subs) { s.streams.delete(stream); s.lastActive = Date.now() }
        if (how === 'dropped') res.socket?.destroy()
        else {
          send(ok(el('m:ConnectionStatus', {}, 'Closed')))
          res.end()
        }
      }
    }
    for (const s of subs) s.streams.add(stream)
    res.on('close', () => stream.end('dropped'))
    send(ok(el('m:ConnectionStatus', {}, 'OK')))
    const keepAlive = setInterval(() => send(ok(el('m:ConnectionStatus', {}, 'OK'))), this.#keepAliveMs)
    stream.timers.push(keepAlive, setTimeout(() => stream.end('closed'), minutes * this.#minuteMs))
    this.#flush(stream)
  }

  /** Sends what the stream's subscriptions queued, 50 events per notification as the docs say. */
  #flush (stream: Stream): void {
    const { send, ok } = stream
    const notifications: string[] = []
    for (const id of stream.ids) {
      const s = this.#subs.get(id)
      while (s !== undefined && s.queue.length > 0) {
        const events = s.queue.splice(0, 50)
        // t:Notification as types.xsd's NonEmptyArrayOfNotificationsType declares it (the docs' example writes m:; GetEvents' is m:)
        notifications.push(el('t:Notification', {}, tv('SubscriptionId', s.id), ...events.map(e => eventXml(e, false))))
      }
    }
    if (notifications.length > 0) send(ok(el('m:Notifications', {}, ...notifications)))
  }

  // control

  subscriptions (): { id: string; mailbox: string; kind: string; streams: number }[] {
    return this.#live().map(s => ({ id: s.id, mailbox: s.mailbox, kind: s.kind, streams: s.streams.size }))
  }

  /** The subscription lapses now (as after 30 idle minutes, or an EWS restart): its streams close, later calls answer ErrorSubscriptionNotFound. */
  expire (id?: string): void {
    for (const s of [...this.#subs.values()]) {
      if (id !== undefined && s.id !== id) continue
      this.#subs.delete(s.id)
      for (const stream of s.streams) stream.end('closed')
    }
  }

  /** Open streams end: 'closed' as at their timeout, 'dropped' as a network failure (no closing envelope). */
  endStreams (how: 'closed' | 'dropped' = 'dropped'): number {
    const all = new Set<Stream>()
    for (const s of this.#subs.values()) for (const st of s.streams) all.add(st)
    for (const st of all) st.end(how)
    return all.size
  }
}

/** One event element; pull events carry their watermark (streaming ones may omit it). */
function eventXml (e: Event, withWatermark: boolean): string {
  return el(`t:${e.type}`, {},
    withWatermark ? tv('Watermark', e.watermark) : null,
    tv('TimeStamp', e.at.toISOString().replace(/\.\d{3}Z$/, 'Z')),
    el('t:ItemId', { Id: e.itemId, ChangeKey: e.changeKey }),
    el('t:ParentFolderId', { Id: e.folderId }),
    e.old === null ? null : el('t:OldItemId', { Id: e.old.itemId }),
    e.old === null ? null : el('t:OldParentFolderId', { Id: e.old.folderId }))
}
