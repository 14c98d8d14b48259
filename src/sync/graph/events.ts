import { createHash } from 'node:crypto'
import type { EventData } from '../items.ts'
import { toMsSeries } from '../microsoft/series.ts'
import { Unrepresentable, type ChangePage, type RemoteCollection, type RemoteItem, type Window } from '../provider.ts'
import { ok, removeRemote, unlessGone, updateExisting, type GraphClient, type GraphRequest } from './client.ts'
import { EXPAND_REF, fromGraphEvent, originalStartOf, REF_PROPERTY, refValue, removed, toGraphEvent, toGraphOccurrence, transactionIdFor, type GraphEvent } from './mapping.ts'

const DAY = 86_400_000
/** A window with no end is this far each way; the delta window reaches a week past the connection's, and is renewed once its end is passed. */
const OPEN_YEARS = 5
const AHEAD_MS = 7 * DAY

/**
 * `series`: for each series master seen, short hashes of its instances' ids
 * in the window. calendarView/delta never returns series masters, only
 * single instances, occurrences and exceptions (delta-query-events.md: "The
 * returned events may include single instances or occurrences and exceptions
 * of a recurring series"), and a removed item is only `{id, @removed}`
 * (api/event-delta.md): a series deleted in Outlook shows as its instances'
 * ids removed, never the master's id the link holds, and "delete this
 * occurrence" as that one occurrence's id removed, with nothing else of its
 * series in the round. So every instance is remembered, and a round that
 * removes one reads its master again (404 → deleted; else its cancelled
 * occurrences). An unknown removed id reads nothing: Graph also removes
 * events that changed outside the window (api/event-delta.md, Response).
 * TAG characters (36 bits; a collision costs one read) an instance, at most
 * PER_SERIES a series (the nearest to now): 6 KB for a daily series without end.
 */
type Cursor = { link: string; to: string; series: Record<string, string> }

const TAG = 6
const PER_SERIES = 1000

const parseCursor = (cursor: string | null): Cursor | null => {
  if (cursor === null) return null
  try {
    const c = JSON.parse(cursor) as Partial<Cursor>
    // a cursor without `series` remembered one instance a series: a fresh round learns them all
    return typeof c.link === 'string' && typeof c.to === 'string' && typeof c.series === 'object' && c.series !== null ? { link: c.link, to: c.to, series: c.series } : null
  } catch {
    return null
  }
}

const instanceTag = (id: string): string => createHash('sha256').update(id).digest('base64url').slice(0, TAG)
const tagsOf = (joined: string): string[] => joined.match(new RegExp(`.{${TAG}}`, 'g')) ?? []
const startMs = (ev: GraphEvent): number => Date.parse(`${(ev.start?.dateTime ?? '').slice(0, 19)}Z`)

const sameStart = (a: string, b: string, allDay: boolean): boolean => allDay ? a.slice(0, 10) === b.slice(0, 10) : Date.parse(a) === Date.parse(b)

/**
 * An Outlook calendar as a sync collection: calendarView/delta over the
 * connection's window (delta-query-events.md; the window is part of the
 * token, so a rolling window is re-baselined with a fresh round once it
 * moved past the token's end), series read as their master with its
 * exceptions and cancelled occurrences (never flattened), creates made
 * idempotent by transactionId, If-Match on every change, and no attendees;
 * a participant's invitation already in the calendar is found by its iCalUId.
 */
export function graphEvents (client: GraphClient, userPath: string, calendarId: string): RemoteCollection {
  const calendar = calendarId === 'primary' ? userPath : `${userPath}/calendars/${encodeURIComponent(calendarId)}`
  const eventPath = (id: string) => `${userPath}/events/${encodeURIComponent(id)}`
  const readEvent = (id: string): GraphRequest => ({ method: 'GET', path: `${eventPath(id)}?${EXPAND_REF}` })

  /** The exception instances of a series, from its first occurrence to the end of its range or the horizon. */
  function instancesRequest (master: GraphEvent, from: string, to: string): GraphRequest {
    return { method: 'GET', path: `${eventPath(master.id)}/instances?startDateTime=${from}&endDateTime=${to}` }
  }
  function seriesSpan (master: GraphEvent): { from: string; to: string } {
    const start = Date.parse(`${(master.start?.dateTime ?? '').slice(0, 19)}Z`)
    const r = master.recurrence?.range
    const end = r?.type === 'endDate' && typeof r.endDate === 'string' ? Date.parse(`${r.endDate}T00:00:00Z`) + 2 * DAY : Date.now() + 2 * 365 * DAY
    return { from: new Date(start - DAY).toISOString(), to: new Date(Math.max(end, start + DAY)).toISOString() }
  }

  /** Singles and masters read with their reference property, masters with their exceptions: batched, 20 a request. */
  async function readAll (singleIds: string[], masterIds: string[], instancesOf?: (masterId: string, instances: GraphEvent[]) => void): Promise<RemoteItem[]> {
    const ids = [...singleIds, ...masterIds]
    const answers = await client.batch<GraphEvent>('read events', ids.map(readEvent))
    const items: RemoteItem[] = []
    const masters: GraphEvent[] = []
    answers.forEach((a, i) => {
      if (a.status === 404) { items.push(removed(ids[i]!)); return }
      const ev = ok('read event', a)
      if (ev.type === 'seriesMaster') masters.push(ev)
      else if (ev.type === 'singleInstance' || ev.type === undefined) items.push(fromGraphEvent(ev))
    })
    const exceptionPages = await client.batch<{ value?: GraphEvent[]; '@odata.nextLink'?: string }>('list occurrences', masters.map(m => { const s = seriesSpan(m); return instancesRequest(m, s.from, s.to) }))
    for (const [i, m] of masters.entries()) {
      const page = ok('list occurrences', exceptionPages[i]!)
      const all = [...(page.value ?? [])]
      if (page['@odata.nextLink'] !== undefined) all.push(...(await client.pages<GraphEvent>('list occurrences', page['@odata.nextLink'])).items)
      instancesOf?.(m.id, all)
      items.push(fromGraphEvent(m, all.filter(x => x.type === 'exception')))
    }
    return items
  }

  async function seriesById (id: string): Promise<RemoteItem | null> {
    const [item] = await readAll([id], [])
    return item === undefined || item.deleted ? null : item
  }

  /**
   * The CRM's deleted and edited occurrences, written to the series after its
   * master: a deleted one is deleted (Graph keeps it in cancelledOccurrences),
   * an edited one updated (it becomes an exception). Then the series as it now reads.
   */
  async function writeOccurrences (masterId: string, e: EventData, exdates: string[]): Promise<RemoteItem> {
    const keys = [...exdates, ...e.overrides.map(o => o.recurrenceId)]
    if (keys.length > 0) {
      const times = keys.map(k => Date.parse(k.length === 10 ? `${k}T00:00:00Z` : k))
      const from = new Date(Math.min(...times) - DAY).toISOString()
      const to = new Date(Math.max(...times) + 2 * DAY).toISOString()
      const { items: instances } = await client.pages<GraphEvent>('list occurrences', `${eventPath(masterId)}/instances?startDateTime=${from}&endDateTime=${to}`)
      const at = (k: string) => instances.find(i => sameStart(originalStartOf(i, e.allDay), k, e.allDay))
      const writes: GraphRequest[] = []
      for (const x of exdates) {
        const inst = at(x)
        if (inst !== undefined) writes.push({ method: 'DELETE', path: eventPath(inst.id) })
      }
      for (const o of e.overrides) {
        const inst = at(o.recurrenceId)
        if (inst !== undefined) writes.push({ method: 'PATCH', path: eventPath(inst.id), body: toGraphOccurrence(o, e.allDay, e.timezone) })
      }
      for (const [i, a] of (await client.batch('write occurrences', writes)).entries()) {
        if (a.status !== 404) ok(`${writes[i]!.method === 'DELETE' ? 'delete' : 'update'} occurrence`, a)
      }
    }
    const fresh = await seriesById(masterId)
    if (fresh === null) throw new Unrepresentable('the series was deleted in Outlook while it was written')
    return fresh
  }

  /** The series as Microsoft can hold it, or Unrepresentable (the CRM keeps it whole; the log says why). */
  function seriesOf (e: EventData) {
    if (e.rrule === null) return null
    const s = toMsSeries(e)
    if (!s.ok) throw new Unrepresentable(`Outlook cannot repeat it this way: ${s.reason}`)
    return s.series
  }

  async function written (id: string, e: EventData, series: ReturnType<typeof seriesOf>, made: GraphEvent): Promise<RemoteItem> {
    if (series === null) return fromGraphEvent(made)
    return writeOccurrences(id, e, series.deleted)
  }

  return {
    kind: 'appointment',
    // a delta round reports what differs from the snapshot its token names: an event Kalends made after that and the user deleted before the next round is in neither
    netListing: true,

    async changes (cursor: string | null, window: Window): Promise<ChangePage> {
      let c = parseCursor(cursor)
      const now = Date.now()
      const wantTo = window.to?.getTime() ?? now + OPEN_YEARS * 365 * DAY
      // the token's window ends before the connection's now: start a round over the moved window
      if (c !== null && Date.parse(c.to) < wantTo) c = null
      const from = new Date(window.from?.getTime() ?? now - OPEN_YEARS * 365 * DAY).toISOString()
      const to = c?.to ?? new Date(wantTo + AHEAD_MS).toISOString()
      const start = c?.link ?? `${calendar}/calendarView/delta?startDateTime=${from}&endDateTime=${to}`
      const round = await client.pages<GraphEvent>(c === null ? 'list events' : 'list changed events', start, { prefer: 'IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=200' })
      const singles = new Set<string>()
      const masters = new Set<string>()
      const gone = new Set<string>()
      const series = new Map(c === null ? [] : Object.entries(c.series).map(([m, joined]) => [m, new Set(tagsOf(joined))]))
      const shown: GraphEvent[] = []
      for (const ev of round.items) {
        if (ev['@removed'] !== undefined) { gone.add(ev.id); continue }
        if (ev.type === 'occurrence' || ev.type === 'exception') { if (ev.seriesMasterId != null) { masters.add(ev.seriesMasterId); shown.push(ev) } } else if (ev.type === 'seriesMaster') masters.add(ev.id)
        else singles.add(ev.id)
      }
      // a removed instance of a known series: read its master (a deleted series answers 404)
      const seriesOfTag = new Map([...series].flatMap(([m, tags]) => [...tags].map(tag => [tag, m] as const)))
      for (const id of gone) {
        const m = seriesOfTag.get(instanceTag(id))
        if (m !== undefined) { masters.add(m); series.get(m)!.delete(instanceTag(id)) }
      }
      const nearest = (a: GraphEvent, b: GraphEvent) => Math.abs(startMs(a) - now) - Math.abs(startMs(b) - now)
      const remember = (m: string, instances: GraphEvent[]) => {
        const tags = series.get(m) ?? new Set<string>()
        for (const ev of instances.sort(nearest)) if (tags.size < PER_SERIES) tags.add(instanceTag(ev.id))
        series.set(m, tags)
      }
      for (const m of new Set(shown.map(ev => ev.seriesMasterId!))) remember(m, shown.filter(ev => ev.seriesMasterId === m))
      for (const id of gone) { singles.delete(id); masters.delete(id) }
      const inWindow = (ev: GraphEvent) => startMs(ev) >= Date.parse(from) && startMs(ev) < Date.parse(to)
      const read = await readAll([...singles], [...masters], (m, instances) => remember(m, instances.filter(inWindow)))
      for (const i of read) if (i.deleted) series.delete(i.remoteId)
      const items = [...[...gone].map(removed), ...read]
      // a first round has no tombstones: an event deleted while the delta token was lost (410) shows only by its
      // absence (linked events outside the window too: the engine reads those once more before deleting anything)
      const live = c === null ? items.filter(i => !i.deleted).map(i => i.remoteId) : undefined
      const next: Cursor = { link: round.deltaLink ?? c?.link ?? start, to, series: Object.fromEntries([...series].filter(([, tags]) => tags.size > 0).map(([m, tags]) => [m, [...tags].join('')])) }
      return { items, cursor: JSON.stringify(next), full: c === null, ...(live === undefined ? {} : { live }) }
    },

    async get (remoteId) {
      return unlessGone(() => seriesById(remoteId))
    },

    async create (data, ref, extras, opts) {
      const e = data as EventData
      const series = seriesOf(e)
      const body = toGraphEvent(e, ref, extras, series?.recurrence ?? null)
      if (opts.lookupUid) {
        // the invitation Exchange put in this calendar (a colleague's meeting) shares the organiser's iCalUId: take it, make no second copy
        const filter = `iCalUId eq '${ref.uid.replace(/'/g, "''")}'`
        const { items: found } = await client.pages<GraphEvent>('find event by UID', `${calendar}/events?$filter=${encodeURIComponent(filter)}&$select=id,type`)
        const copy = found.find(ev => ev.type !== 'occurrence' && ev.type !== 'exception')
        const item = copy === undefined ? null : await seriesById(copy.id)
        if (item !== null) return item
      }
      if (opts.mayExist) {
        // an earlier attempt's copy, by the reference property (the documented $filter on extended properties)
        const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${REF_PROPERTY}' and ep/value eq '${refValue(ref)}')`
        const { items: found } = await client.pages<GraphEvent>('find event', `${calendar}/events?$filter=${encodeURIComponent(filter)}&${EXPAND_REF}`)
        const copy = found[0]
        if (copy !== undefined) return this.update(copy.id, copy['@odata.etag'] ?? null, data, ref, extras)
      }
      const made = (await client.call<GraphEvent>('create event', { method: 'POST', path: `${calendar}/events`, body: { ...body, transactionId: transactionIdFor(ref) } })).body
      return written(made.id, e, series, made)
    },

    /** A first pass's single events in JSON $batches of 20 (series go one by one: their occurrences follow the master). */
    async createMany (items) {
      const requests = items.map(({ data, ref, extras }) => ({ method: 'POST', path: `${calendar}/events`, body: { ...toGraphEvent(data as EventData, ref, extras, null), transactionId: transactionIdFor(ref) } }))
      if (items.some(i => (i.data as EventData).rrule !== null)) throw new Error('createMany takes single events only')
      const answers = await client.batch<GraphEvent>('create events', requests)
      return answers.map(a => {
        try {
          return fromGraphEvent(ok('create event', a))
        } catch (e) {
          return e as Error
        }
      })
    },

    async update (remoteId, etag, data, ref, extras) {
      const e = data as EventData
      const series = seriesOf(e)
      return updateExisting('update event', async () => {
        const made = (await client.call<GraphEvent>('update event', { method: 'PATCH', path: eventPath(remoteId), etag, body: toGraphEvent(e, ref, extras, series?.recurrence ?? null) })).body
        return written(remoteId, e, series, made)
      })
    },

    async remove (remoteId, etag) {
      return removeRemote(tag => client.call('delete event', { method: 'DELETE', path: eventPath(remoteId), etag: tag }), etag)
    }
  }
}
