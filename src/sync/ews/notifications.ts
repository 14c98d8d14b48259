import { ChannelLost, Transient, type ChannelEvents } from '../provider.ts'
import { child, childrenOf, el, NS, tv, type XmlElement } from '../microsoft/ews-xml.ts'
import { EwsFault, messageError, type EwsClient, type Message } from './client.ts'
import { folderXml, type FolderRef } from './folder.ts'

/**
 * Exchange's streaming notifications, or pull ones where streaming is refused (Exchange 2010 SP1 and later;
 * exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange.md,
 * exchange-web-services/how-to-stream-notifications-about-mailbox-events-by-using-ews-in-exchange.md):
 * one Subscribe with a StreamingSubscriptionRequest for the connection's
 * calendar and tasks folders, then GetStreamingEvents held open (at most 30
 * minutes, web-service-reference/getstreamingevents-operation.md) and opened
 * again whenever it ends. A notification only asks for a sync run:
 * SyncFolderItems stays the cursor and the safety net, so what an event says
 * about the item is not read.
 *
 * A subscription lives 30 minutes past its last connection, or until the
 * EWS process restarts; then the server answers ErrorSubscriptionNotFound
 * (or ErrorInvalidSubscription, ErrorExpiredSubscription, ErrorReadEventsFailed)
 * and the next run makes a new one
 * (exchange-web-services/handling-notification-related-errors-in-ews-in-exchange.md:
 * a new subscription, without the old watermark).
 */

/** The channel a connection stores (sync_connections.channel). */
export type EwsChannel = {
  kind: 'ews-streaming' | 'ews-pull'
  /** the SubscriptionId */
  id: string
  /** the folders it watches, as the connection's options named them (a change of options makes a new one) */
  folders: string
  /** when it was made (push-health.ts holds a silent one to it) */
  since: number
  /** pull: the watermark Subscribe gave (later ones are kept by the listener) */
  watermark?: string
}

/**
 * A pull subscription lapses this many minutes after its last GetEvents
 * (web-service-reference/pullsubscriptionrequest.md, Timeout 1 to 1440).
 */
export const PULL_TIMEOUT_MINUTES = 30

/** Longest connection the schema allows (StreamingSubscriptionConnectionTimeoutType). */
export const CONNECTION_TIMEOUT_MINUTES = 30

/** Item changes; a calendar item moved to Deleted Items is a MovedEvent (web-service-reference/notification-ex15websvcsotherref.md). */
const EVENT_TYPES = ['CreatedEvent', 'ModifiedEvent', 'DeletedEvent', 'MovedEvent', 'CopiedEvent'] as const

/** The codes by which the server says it no longer has the subscription. */
const LOST = new Set(['ErrorSubscriptionNotFound', 'ErrorInvalidSubscription', 'ErrorExpiredSubscription', 'ErrorReadEventsFailed', 'ErrorMissedNotificationEvents'])

export const foldersKey = (folders: FolderRef[]): string => folders.map(f => 'distinguished' in f ? `@${f.distinguished}` : f.id).join(' ')

export function isEwsChannel (c: Record<string, unknown> | null): c is EwsChannel {
  return c !== null && (c.kind === 'ews-streaming' || c.kind === 'ews-pull') && typeof c.id === 'string'
}

/** The codes by which a server says it does not offer streaming subscriptions (then pull). */
const NO_STREAMING = new Set(['ErrorInvalidRequest', 'ErrorInvalidSubscriptionRequest', 'ErrorSchemaValidation', 'ErrorInvalidServerVersion'])

/** A streaming subscription, or a pull one where the server refuses streaming. */
export async function subscribe (client: EwsClient, folders: FolderRef[]): Promise<EwsChannel> {
  const request = (kind: 'StreamingSubscriptionRequest' | 'PullSubscriptionRequest') => el('m:Subscribe', {},
    el(`m:${kind}`, {},
      el('t:FolderIds', {}, ...folders.map(folderXml)),
      el('t:EventTypes', {}, ...EVENT_TYPES.map(t => tv('EventType', t))),
      kind === 'PullSubscriptionRequest' ? tv('Timeout', PULL_TIMEOUT_MINUTES) : null))
  let m
  let kind: EwsChannel['kind'] = 'ews-streaming'
  try {
    // a login that cannot hold a stream (NTLM authenticates a connection, and the stream is another one) pulls
    if (!client.canStream) throw new EwsFault('ErrorInvalidRequest', 'this login cannot hold a streaming connection')
    m = await client.one('Subscribe', request('StreamingSubscriptionRequest'))
  } catch (err) {
    if (!(err instanceof EwsFault) || !NO_STREAMING.has(err.code)) throw err
    kind = 'ews-pull'
    m = await client.one('Subscribe', request('PullSubscriptionRequest'))
  }
  const id = child(m, NS.m, 'SubscriptionId')?.text ?? ''
  if (id === '') throw new Error('Exchange answered Subscribe without a SubscriptionId')
  const watermark = child(m, NS.m, 'Watermark')?.text
  return { kind, id, folders: foldersKey(folders), since: Date.now(), ...(watermark === undefined ? {} : { watermark }) }
}

/** Gone already is fine (web-service-reference/unsubscribe-operation.md). */
export async function unsubscribe (client: EwsClient, subscriptionId: string): Promise<void> {
  const [m] = await client.call('Unsubscribe', el('m:Unsubscribe', {}, el('m:SubscriptionId', {}, subscriptionId)))
  if (m !== undefined && !m.ok && !LOST.has(m.code)) throw messageError(m, 'Unsubscribe')
}

/**
 * One GetStreamingEvents connection, until the server closes it
 * (ConnectionStatus Closed, or the connection ends). Every envelope, the
 * keep-alive ConnectionStatus OK included, shows the channel is alive; one
 * that carries item events asks for a run.
 */
export async function listen (client: EwsClient, channel: EwsChannel, signal: AbortSignal, on: ChannelEvents, pull: PullState): Promise<void> {
  if (channel.kind === 'ews-pull') return await listenPull(client, channel, signal, on, pull)
  return await listenStreaming(client, channel, signal, on)
}

async function listenStreaming (client: EwsClient, channel: EwsChannel, signal: AbortSignal, on: ChannelEvents): Promise<void> {
  const body = el('m:GetStreamingEvents', {},
    el('m:SubscriptionIds', {}, tv('SubscriptionId', channel.id)),
    el('m:ConnectionTimeout', {}, String(CONNECTION_TIMEOUT_MINUTES)))
  await client.stream('GetStreamingEvents', body, signal, async (messages: Message[]) => {
    for (const m of messages) {
      if (!m.ok) {
        if (LOST.has(m.code)) throw new ChannelLost(`Exchange no longer has the subscription (${m.code})`)
        if (m.code === 'ErrorServerBusy') throw new Transient('Exchange is busy (ErrorServerBusy) during GetStreamingEvents')
        throw messageError(m, 'GetStreamingEvents')
      }
      await on.alive()
      // t:Notification as types.xsd declares it; Microsoft's examples write m:
      const notifications = childrenOf(child(m.el, NS.m, 'Notifications'), NS.t, 'Notification').concat(childrenOf(child(m.el, NS.m, 'Notifications'), NS.m, 'Notification'))
      if (notifications.some(hasItemEvents)) await on.changed()
    }
  })
}

const hasItemEvents = (n: XmlElement): boolean => childrenOf(n, NS.t).some(e => (EVENT_TYPES as readonly string[]).includes(e.name))

/** The latest watermark of each pull subscription this process reads, and how often it asks. */
export type PullState = { marks: Map<string, string>; intervalMs: number }

/**
 * Pull (exchange-web-services/how-to-pull-notifications-about-mailbox-events-by-using-ews-in-exchange.md):
 * GetEvents from the last watermark every intervalMs, at once again while
 * MoreEvents says so, until aborted. The watermark advances in memory; a
 * listener that starts over begins at the one Subscribe gave, which the
 * server may refuse (ErrorInvalidWatermark): then a new subscription.
 */
async function listenPull (client: EwsClient, channel: EwsChannel, signal: AbortSignal, on: ChannelEvents, pull: PullState): Promise<void> {
  while (!signal.aborted) {
    const mark = pull.marks.get(channel.id) ?? channel.watermark ?? ''
    const [m] = await client.call('GetEvents', el('m:GetEvents', {}, el('m:SubscriptionId', {}, channel.id), el('m:Watermark', {}, mark)))
    if (m === undefined) throw new Error('Exchange answered GetEvents without a response message')
    if (!m.ok) {
      if (LOST.has(m.code) || m.code === 'ErrorInvalidWatermark') throw new ChannelLost(`Exchange no longer has the subscription (${m.code})`)
      throw messageError(m, 'GetEvents')
    }
    await on.alive()
    const n = child(m.el, NS.m, 'Notification')
    const marks = childrenOf(n, NS.t).map(e => child(e, NS.t, 'Watermark')?.text).filter((w): w is string => w !== undefined)
    if (marks.length > 0) pull.marks.set(channel.id, marks[marks.length - 1]!)
    if (n !== null && hasItemEvents(n)) await on.changed()
    if (child(n, NS.t, 'MoreEvents')?.text === 'true') continue
    await new Promise<void>(resolve => {
      const t = setTimeout(resolve, pull.intervalMs)
      signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
    })
  }
}
