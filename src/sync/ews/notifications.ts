import { ChannelLost, Transient, type ChannelEvents } from '../provider.ts'
import { child, childrenOf, el, NS, tv } from '../microsoft/ews-xml.ts'
import { messageError, type EwsClient, type Message } from './client.ts'
import { folderXml, type FolderRef } from './folder.ts'

/**
 * Exchange's streaming notifications (Exchange 2010 SP1 and later;
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
export type StreamingChannel = {
  kind: 'ews-streaming'
  /** the SubscriptionId */
  id: string
  /** the folders it watches, as the connection's options named them (a change of options makes a new one) */
  folders: string
  /** when it was made (push-health.ts holds a silent one to it) */
  since: number
}

/** Longest connection the schema allows (StreamingSubscriptionConnectionTimeoutType). */
export const CONNECTION_TIMEOUT_MINUTES = 30

/** Item changes; a calendar item moved to Deleted Items is a MovedEvent (web-service-reference/notification-ex15websvcsotherref.md). */
const EVENT_TYPES = ['CreatedEvent', 'ModifiedEvent', 'DeletedEvent', 'MovedEvent', 'CopiedEvent'] as const

/** The codes by which the server says it no longer has the subscription. */
const LOST = new Set(['ErrorSubscriptionNotFound', 'ErrorInvalidSubscription', 'ErrorExpiredSubscription', 'ErrorReadEventsFailed', 'ErrorMissedNotificationEvents'])

export const foldersKey = (folders: FolderRef[]): string => folders.map(f => 'distinguished' in f ? `@${f.distinguished}` : f.id).join(' ')

export function isStreamingChannel (c: Record<string, unknown> | null): c is StreamingChannel {
  return c !== null && c.kind === 'ews-streaming' && typeof c.id === 'string'
}

export async function subscribeStreaming (client: EwsClient, folders: FolderRef[]): Promise<StreamingChannel> {
  const m = await client.one('Subscribe', el('m:Subscribe', {},
    el('m:StreamingSubscriptionRequest', {},
      el('t:FolderIds', {}, ...folders.map(folderXml)),
      el('t:EventTypes', {}, ...EVENT_TYPES.map(t => tv('EventType', t))))))
  const id = child(m, NS.m, 'SubscriptionId')?.text ?? ''
  if (id === '') throw new Error('Exchange answered Subscribe without a SubscriptionId')
  return { kind: 'ews-streaming', id, folders: foldersKey(folders), since: Date.now() }
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
export async function listenStreaming (client: EwsClient, channel: StreamingChannel, signal: AbortSignal, on: ChannelEvents): Promise<void> {
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
      const changed = notifications.some(n => childrenOf(n, NS.t).some(e => (EVENT_TYPES as readonly string[]).includes(e.name)))
      if (changed) await on.changed()
    }
  })
}
