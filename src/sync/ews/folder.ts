import type { ItemKind } from '../../db/schema.ts'
import type { EventData, ItemData, TaskData } from '../items.ts'
import { CursorExpired, RemoteConflict, Unrepresentable, type ChangePage, type ItemRef, type RemoteCollection, type RemoteItem, type Window } from '../provider.ts'
import { child, childrenOf, el, NS, textOf, tv, type XmlElement } from '../microsoft/ews-xml.ts'
import { instanceIndex } from '../microsoft/occurrences.ts'
import type { MsRecurrence, SeriesStart } from '../microsoft/recurrence.ts'
import { toMsSeries, type MsSeries } from '../microsoft/series.ts'
import { messageError, type EwsClient } from './client.ts'
import { asNew, asUpdates, calendarFields, CALENDAR_SHAPE, exceptionIds, fromCalendarItem, fromTask, occurrenceFields, REF_URI, refValue, TASK_SHAPE, taskFields, type Field } from './mapping.ts'

/**
 * An Exchange calendar or tasks folder as a sync collection
 * (exchange-web-services/mailbox-synchronization-and-ews-in-exchange.md):
 * SyncFolderItems IdOnly with the SyncState as cursor, 512 changes a call,
 * paged until IncludesLastItemInRange; then GetItem in batches naming the
 * Kalends extended property, which Exchange sends only when asked. Writes
 * never mail anyone (SendToNone everywhere), update with the ChangeKey under
 * NeverOverwrite, and delete to Deleted Items.
 */

const BATCH = 50
const MAX_CHANGES = 512
const T = NS.t

export type FolderRef = { distinguished: string } | { id: string }

export const folderXml = (f: FolderRef): string => 'distinguished' in f ? el('t:DistinguishedFolderId', { Id: f.distinguished }) : el('t:FolderId', { Id: f.id })
const itemIdXml = (id: string, changeKey: string | null): string => el('t:ItemId', { Id: id, ChangeKey: changeKey ?? undefined })
const chunks = <X>(xs: X[], n: number): X[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n))

/** A date (all-day) or instant at the end of an item, for the first listing's window. */
function outsideWindow (data: ItemData, w: Window): boolean {
  if (!('start' in data) || data.rrule !== null) return false
  const ms = (v: string) => Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v)
  return (w.from !== null && ms(data.end) < w.from.getTime()) || (w.to !== null && ms(data.start) > w.to.getTime())
}

export function ewsFolder (client: EwsClient, kind: ItemKind, folder: FolderRef, zone: string): RemoteCollection {
  const calendar = kind === 'appointment'
  const element = calendar ? 'CalendarItem' as const : 'Task' as const
  const sendNone = calendar ? { SendMeetingInvitations: 'SendToNone' } : {}

  /** Items by id in batches (with a series' exceptions); an id that is gone maps to null. */
  async function read (ids: string[]): Promise<Map<string, RemoteItem | null>> {
    const out = new Map<string, RemoteItem | null>()
    for (const batch of chunks(ids, BATCH)) {
      const messages = await client.call('GetItem', el('m:GetItem', {}, calendar ? CALENDAR_SHAPE : TASK_SHAPE, el('m:ItemIds', {}, ...batch.map(id => el('t:ItemId', { Id: id })))))
      const items: XmlElement[] = []
      for (const [i, m] of messages.entries()) {
        if (!m.ok) {
          if (m.code !== 'ErrorItemNotFound') throw messageError(m, 'GetItem')
          out.set(batch[i] as string, null)
          continue
        }
        const item = childrenOf(child(m.el, NS.m, 'Items'), T)[0]
        if (item !== undefined) items.push(item)
      }
      const exceptions = new Map<string, XmlElement>()
      const wanted = items.flatMap(exceptionIds)
      for (const exBatch of chunks(wanted, BATCH)) {
        const exMessages = await client.call('GetItem', el('m:GetItem', {}, CALENDAR_SHAPE, el('m:ItemIds', {}, ...exBatch.map(id => el('t:ItemId', { Id: id })))))
        for (const [i, m] of exMessages.entries()) {
          const ex = childrenOf(child(m.el, NS.m, 'Items'), T)[0]
          if (m.ok && ex !== undefined) exceptions.set(exBatch[i] as string, ex)
        }
      }
      for (const item of items) {
        const remote = calendar ? fromCalendarItem(item, exceptionIds(item).map(id => exceptions.get(id)).filter((x): x is XmlElement => x !== undefined)) : fromTask(item)
        out.set(remote.remoteId, remote)
      }
    }
    return out
  }

  async function readOne (id: string): Promise<RemoteItem> {
    const item = (await read([id])).get(id)
    if (item == null) throw new RemoteConflict(`the Exchange item ${id} is gone`)
    return item
  }

  /** The series as Exchange can hold it, or Unrepresentable: such a series stays whole in the CRM and is never flattened. */
  function seriesOf (e: EventData): MsSeries | null {
    if (e.rrule === null) return null
    const s = toMsSeries(e)
    if (!s.ok) throw new Unrepresentable(`Exchange cannot hold the repeat rule ${e.rrule}: ${s.reason}`)
    return s.series
  }

  function fieldsOf (data: ItemData, ref: ItemRef, extras: string[], series: MsSeries | null): Field[] {
    return calendar ? calendarFields(data as EventData, ref, extras, series?.recurrence ?? null, zone) : taskFields(data as TaskData, ref, extras)
  }

  /**
   * Deleted and edited occurrences after the master is written: by
   * OccurrenceItemId (RecurringMasterId + InstanceIndex; web-service-reference/occurrenceitemid.md),
   * each only when Exchange's copy differs.
   */
  async function writeOccurrences (master: RemoteItem, e: EventData, series: MsSeries): Promise<RemoteItem> {
    const have = master.data as EventData
    const s: SeriesStart = { start: e.start, timezone: e.allDay ? null : e.timezone, allDay: e.allDay }
    const index = (r: MsRecurrence, at: string) => instanceIndex(r, s, at)
    const occurrenceId = (i: number) => el('t:OccurrenceItemId', { RecurringMasterId: master.remoteId, InstanceIndex: i })
    let wrote = false
    const deletions = series.deleted.filter(d => !have.exdates.includes(d)).map(d => index(series.recurrence, d)).filter((i): i is number => i !== null)
    if (deletions.length > 0) {
      for (const m of await client.call('DeleteItem', el('m:DeleteItem', { DeleteType: 'HardDelete', SendMeetingCancellations: 'SendToNone' }, el('m:ItemIds', {}, ...deletions.map(occurrenceId))))) {
        if (!m.ok && m.code !== 'ErrorCalendarOccurrenceIsDeletedFromRecurrence') throw messageError(m, 'DeleteItem occurrence')
      }
      wrote = true
    }
    const changed = series.modified.filter(o => !have.overrides.some(h => JSON.stringify(h) === JSON.stringify(o)))
    const changes = changed.map(o => ({ o, i: index(series.recurrence, o.recurrenceId) })).filter((x): x is { o: typeof x.o; i: number } => x.i !== null)
    if (changes.length > 0) {
      const body = el('m:UpdateItem', { ConflictResolution: 'AlwaysOverwrite', SendMeetingInvitationsOrCancellations: 'SendToNone' },
        el('m:ItemChanges', {}, ...changes.map(({ o, i }) => el('t:ItemChange', {}, occurrenceId(i), asUpdates('CalendarItem', occurrenceFields(o, e.allDay, zone))))))
      for (const m of await client.call('UpdateItem', body)) if (!m.ok) throw messageError(m, 'UpdateItem occurrence')
      wrote = true
    }
    return wrote ? readOne(master.remoteId) : master
  }

  async function afterWrite (id: string, data: ItemData, series: MsSeries | null): Promise<RemoteItem> {
    const written = await readOne(id)
    return series === null ? written : writeOccurrences(written, data as EventData, series)
  }

  /** Our earlier copy of a CRM item, by the hidden property (FindItem with IsEqualTo; web-service-reference/finditem-operation.md). */
  async function findByRef (ref: ItemRef): Promise<string | null> {
    const restriction = el('m:Restriction', {}, el('t:IsEqualTo', {}, REF_URI, el('t:FieldURIOrConstant', {}, el('t:Constant', { Value: refValue(ref) }))))
    const found = await client.one('FindItem', el('m:FindItem', { Traversal: 'Shallow' }, el('m:ItemShape', {}, tv('BaseShape', 'IdOnly')), restriction, el('m:ParentFolderIds', {}, folderXml(folder))))
    const first = childrenOf(child(child(found, NS.m, 'RootFolder'), T, 'Items'), T)[0]
    return child(first, T, 'ItemId')?.attrs.Id ?? null
  }

  async function update (remoteId: string, etag: string | null, data: ItemData, ref: ItemRef, extras: string[]): Promise<RemoteItem> {
    const series = calendar ? seriesOf(data as EventData) : null
    const attrs = {
      // without a ChangeKey (a link matched by id, not yet written) there is nothing to conflict with
      ConflictResolution: etag === null ? 'AlwaysOverwrite' : 'NeverOverwrite',
      ...(calendar ? { SendMeetingInvitationsOrCancellations: 'SendToNone' } : {})
    }
    const [m] = await client.call('UpdateItem', el('m:UpdateItem', attrs,
      el('m:ItemChanges', {}, el('t:ItemChange', {}, itemIdXml(remoteId, etag), asUpdates(element, fieldsOf(data, ref, extras, series))))))
    if (m === undefined) throw new Error('Exchange answered UpdateItem without a response message')
    if (!m.ok) {
      if (m.code === 'ErrorIrresolvableConflict' || m.code === 'ErrorItemNotFound') throw new RemoteConflict(`${m.code} on the Exchange item ${remoteId}`)
      throw messageError(m, 'UpdateItem')
    }
    return afterWrite(remoteId, data, series)
  }

  return {
    kind,
    netListing: true,

    async changes (cursor: string | null, window: Window): Promise<ChangePage> {
      const state = new Map<string, boolean>()
      let syncState = cursor
      for (;;) {
        const [m] = await client.call('SyncFolderItems', el('m:SyncFolderItems', {},
          el('m:ItemShape', {}, tv('BaseShape', 'IdOnly')),
          el('m:SyncFolderId', {}, folderXml(folder)),
          syncState === null ? null : el('m:SyncState', {}, syncState),
          el('m:MaxChangesReturned', {}, String(MAX_CHANGES))))
        if (m === undefined) throw new Error('Exchange answered SyncFolderItems without a response message')
        if (!m.ok) {
          if (m.code === 'ErrorInvalidSyncStateData') throw new CursorExpired('Exchange no longer knows the SyncState')
          throw messageError(m, 'SyncFolderItems')
        }
        syncState = textOf(m.el, NS.m, 'SyncState') ?? syncState
        for (const c of childrenOf(child(m.el, NS.m, 'Changes'), T)) {
          const id = (child(c, T, 'ItemId') ?? childrenOf(c, T).map(i => child(i, T, 'ItemId')).find(x => x !== null))?.attrs.Id
          if (id === undefined || c.name === 'ReadFlagChange') continue
          state.delete(id)
          state.set(id, c.name !== 'Delete')
        }
        if (textOf(m.el, NS.m, 'IncludesLastItemInRange') !== 'false') break
      }
      const live = [...state].filter(([, alive]) => alive).map(([id]) => id)
      const found = await read(live)
      const items: RemoteItem[] = []
      for (const [id, alive] of state) {
        const item = alive ? found.get(id) ?? null : null
        if (item === null) items.push({ remoteId: id, etag: null, deleted: true, data: null, ref: null, uid: null, attendees: [], updated: null })
        else if (cursor !== null || item.data === null || !outsideWindow(item.data, window)) items.push(item)
      }
      // without a SyncState Exchange lists what exists, no deletions: the engine finds those by absence
      return { items, cursor: syncState ?? '', full: cursor === null, ...(cursor === null ? { live } : {}) }
    },

    async get (remoteId) {
      return (await read([remoteId])).get(remoteId) ?? null
    },

    async create (data, ref, extras, opts) {
      if (opts.mayExist) {
        const earlier = await findByRef(ref)
        // made by the attempt that died: bring it in line instead of making a second
        if (earlier !== null) return update(earlier, null, data, ref, extras)
      }
      const series = calendar ? seriesOf(data as EventData) : null
      const item = asNew(element, fieldsOf(data, ref, extras, series), calendar ? ref.uid : undefined)
      const made = await client.one('CreateItem', el('m:CreateItem', sendNone, el('m:SavedItemFolderId', {}, folderXml(folder)), el('m:Items', {}, item)))
      const id = child(childrenOf(child(made, NS.m, 'Items'), T)[0], T, 'ItemId')?.attrs.Id
      if (id === undefined) throw new Error('Exchange answered CreateItem without an ItemId')
      return afterWrite(id, data, series)
    },

    update,

    async remove (remoteId, etag) {
      const attrs = { DeleteType: 'MoveToDeletedItems', ...(calendar ? { SendMeetingCancellations: 'SendToNone' } : { AffectedTaskOccurrences: 'AllOccurrences' }) }
      const [m] = await client.call('DeleteItem', el('m:DeleteItem', attrs, el('m:ItemIds', {}, itemIdXml(remoteId, null))))
      if (m !== undefined && !m.ok && m.code !== 'ErrorItemNotFound') throw messageError(m, 'DeleteItem')
    }
  }
}
