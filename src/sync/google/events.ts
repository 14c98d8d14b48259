import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { EventData } from '../items.ts'
import { type ChangePage, type RemoteCollection, type RemoteItem, type Window } from '../provider.ts'
import { call, classify, ifMatch, removeRemote, statusOf, unlessGone, updateExisting } from './client.ts'
import { eventIdFor, fromGoogleEvent, instanceId, seriesItem, toGoogleEvent, toGoogleInstance } from './mapping.ts'

/**
 * A Google calendar as a sync collection: events.list with a sync token
 * (full listing bounded by the first sync's window when there is none),
 * masters with their recurrence (never single instances), client-chosen ids,
 * If-Match on every change, and no mail to anyone (sendUpdates=none).
 */
export function googleEvents (api: calendar_v3.Calendar, calendarId: string): RemoteCollection {
  /** A recurring event with its exceptions folded in: cancelled instances become EXDATEs. */
  async function seriesOf (master: calendar_v3.Schema$Event): Promise<RemoteItem> {
    if (master.recurrence == null || master.status === 'cancelled' || master.iCalUID == null) return fromGoogleEvent(master)
    const all = await call('list series', () => api.events.list({ calendarId, iCalUID: master.iCalUID as string, showDeleted: true, singleEvents: false }))
    const fresh = all.items?.find(ev => ev.id === master.id) ?? master
    return seriesItem(fresh, (all.items ?? []).filter(ev => ev.recurringEventId === master.id))
  }

  async function seriesById (masterId: string): Promise<RemoteItem | null> {
    const master = await unlessGone('get event', async () => (await api.events.get({ calendarId, eventId: masterId })).data)
    return master === null ? null : seriesOf(master)
  }

  /**
   * Occurrences edited on their own go out as instance updates after the
   * series; the item then reads as written (series with its overrides).
   */
  async function writeInstances (master: RemoteItem, e: EventData): Promise<RemoteItem> {
    if (e.rrule === null || e.overrides.length === 0 || master.data === null) return master
    for (const o of e.overrides) {
      await call('update occurrence', () => api.events.update({ calendarId, eventId: instanceId(master.remoteId, o.recurrenceId), sendUpdates: 'none', requestBody: toGoogleInstance(o, e) }))
    }
    const fresh = await unlessGone('get event', async () => (await api.events.get({ calendarId, eventId: master.remoteId })).data)
    return { ...master, etag: fresh?.etag ?? master.etag, data: { ...(master.data as EventData), overrides: e.overrides } }
  }

  return {
    kind: 'appointment',

    async changes (cursor: string | null, window: Window): Promise<ChangePage> {
      const events: calendar_v3.Schema$Event[] = []
      let pageToken: string | undefined
      let next: string | null | undefined
      for (;;) {
        // a full listing shows deleted events too: cancelled instances are a series' exceptions
        const params: calendar_v3.Params$Resource$Events$List = { calendarId, maxResults: 2500, singleEvents: false, showDeleted: true, pageToken }
        if (cursor !== null) params.syncToken = cursor
        else {
          if (window.from !== null) params.timeMin = window.from.toISOString()
          if (window.to !== null) params.timeMax = window.to.toISOString()
        }
        const page = await call(cursor === null ? 'list events' : 'list changed events', () => api.events.list(params))
        events.push(...(page.items ?? []))
        if (page.nextPageToken == null) { next = page.nextSyncToken; break }
        pageToken = page.nextPageToken
      }
      const exceptions = new Map<string, calendar_v3.Schema$Event[]>()
      for (const ev of events) {
        if (ev.recurringEventId == null) continue
        exceptions.set(ev.recurringEventId, [...(exceptions.get(ev.recurringEventId) ?? []), ev])
      }
      const items: RemoteItem[] = []
      const done = new Set<string>()
      for (const ev of events) {
        if (ev.recurringEventId != null || ev.id == null) continue
        done.add(ev.id)
        if (cursor === null || ev.recurrence == null || ev.status === 'cancelled') items.push(seriesItem(ev, exceptions.get(ev.id) ?? []))
        else items.push(await seriesOf(ev))
      }
      // an instance changed without its master: the whole series is read again
      for (const masterId of exceptions.keys()) {
        if (done.has(masterId)) continue
        const series = await seriesById(masterId)
        if (series !== null) items.push(series)
      }
      return { items, cursor: next ?? cursor ?? '', full: cursor === null }
    },

    async get (remoteId: string): Promise<RemoteItem | null> {
      return unlessGone('get event', async () => fromGoogleEvent((await api.events.get({ calendarId, eventId: remoteId })).data))
    },

    async create (data, ref, extras, opts): Promise<RemoteItem> {
      if (opts.lookupUid) {
        const found = await call('find event by UID', () => api.events.list({ calendarId, iCalUID: ref.uid, showDeleted: false }))
        const copy = found.items?.find(ev => ev.status !== 'cancelled' && ev.recurringEventId == null)
        if (copy != null) return fromGoogleEvent(copy)
      }
      const id = eventIdFor(ref)
      const body = { ...toGoogleEvent(data as EventData, ref, extras), id }
      let made: RemoteItem
      try {
        made = fromGoogleEvent((await api.events.insert({ calendarId, sendUpdates: 'none', requestBody: body })).data)
      } catch (e) {
        if (statusOf(e) !== 409) throw classify(e, 'create event')
        // made before (a retry, a reconnect, or deleted once): take it over with our data
        const existing = await this.get(id)
        made = fromGoogleEvent(await call('restore event', () => api.events.update({ calendarId, eventId: id, sendUpdates: 'none', requestBody: { ...body, status: (data as EventData).status } }, ifMatch(existing?.etag))))
      }
      return writeInstances(made, data as EventData)
    },

    async update (remoteId, etag, data, ref, extras): Promise<RemoteItem> {
      return updateExisting('update event', async () => {
        const res = await api.events.update({ calendarId, eventId: remoteId, sendUpdates: 'none', requestBody: toGoogleEvent(data as EventData, ref, extras) }, ifMatch(etag))
        return writeInstances(fromGoogleEvent(res.data), data as EventData)
      })
    },

    async remove (remoteId, etag): Promise<void> {
      return removeRemote('delete event', e => api.events.delete({ calendarId, eventId: remoteId, sendUpdates: 'none' }, ifMatch(e)), etag)
    }
  }
}
