import { createHash } from 'node:crypto'
import type { InsertObject, Insertable, QueryCreator } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { CalendarObject, ChangesTable, Database, ItemKind } from '../db/schema.ts'
import { recordArgs, runShaped } from '../db/shaped.ts'
import { DomainError } from './errors.ts'
import { changeRows, journalSeq, record, type ChangeInput, type Origin } from './journal.ts'
import { replaceOverrides } from '../ical/overrides.ts'
import { renderItem, spanOf, type ItemFields } from './ical-mapping.ts'

/**
 * Keeps the calendar object resources of one CRM item in step with it: one per
 * calendar that shows the item (the home calendar and each participant's).
 * Each copy keeps its own body as its client last wrote it; CRM fields are
 * patched into it, so nobody's alarms or X- properties are lost.
 */
export type Placement = { calendarId: number; name?: string }

/**
 * The body a client sent for one of the copies; stored exactly as sent.
 * `stored` is filled in with what that copy holds once written (or found
 * unchanged), so the PUT need not read it back. `span` is the body's span when
 * the caller has parsed it already (so it is not parsed again).
 */
export type ClientBody = { calendarId: number; name: string; ical: string; span?: Span; stored?: { etag: string; ical: string } }

/** The UTC span of every instance; lastEnd null = recurs without end. Placements come home calendar first. */
export type Span = { firstStart: Date | null; lastEnd: Date | null }

export type ItemSnapshot = { kind: ItemKind; id: number; orgId: number; uid: string; component: 'VEVENT' | 'VTODO'; fields: ItemFields }

export function etagOf (ical: string): string {
  return `"${createHash('sha256').update(ical).digest('base64url').slice(0, 22)}"`
}

export function objectName (uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 200)
  return `${safe === '' ? 'item' : safe}.ics`
}

/** RFC 4791 no-uid-conflict: a UID names one object per calendar. */
export async function requireFreeUid (tx: Db, calendarId: number, uid: string): Promise<void> {
  const clash = await tx.selectFrom('calendar_objects').select('name').where('calendar_id', '=', calendarId).where('uid', '=', uid).executeTakeFirst()
  if (clash !== undefined) throw new DomainError('conflict', `another item in this calendar (${clash.name}) has UID ${uid}`, { field: 'uid', rule: 'no-uid-conflict' })
}

export async function objectsOf (tx: Db, kind: ItemKind, id: number): Promise<CalendarObject[]> {
  return tx.selectFrom('calendar_objects').selectAll().where('item_kind', '=', kind).where('item_id', '=', id).execute()
}

export async function syncPlacements (
  tx: Db,
  item: ItemSnapshot,
  placements: Placement[],
  ctx: {
    origin: Origin
    actorId: number | null
    clientBody?: ClientBody
    /** a calendar whose single-occurrence edits (RECURRENCE-ID components) replace every copy's, e.g. from sync */
    overrides?: string
    op: 'create' | 'update'
    /** write only the copies that are missing; remove and rewrite none */
    onlyMissing?: boolean
    /** the item's own journal entries, recorded first in the same statement as the copies' */
    journal?: ChangeInput[]
    /** every copy of the item, read in this transaction after the item was locked (else read here) */
    existing?: CalendarObject[]
  }
): Promise<Span> {
  // a item created in this transaction has no copies yet
  const existing = ctx.op === 'create' ? [] : ctx.existing ?? await objectsOf(tx, item.kind, item.id)
  const byCalendar = new Map(existing.map(o => [o.calendar_id, o]))
  const wanted = new Set(placements.map(p => p.calendarId))
  const journal = journalOf(item, ctx)

  const gone = ctx.onlyMissing === true ? [] : existing.filter(o => !wanted.has(o.calendar_id))
  let homeSpan: Span | undefined
  const writes: { place: Placement; current: CalendarObject | undefined; name: string; ical: string; span: Span }[] = []
  for (const place of placements) {
    const current = byCalendar.get(place.calendarId)
    if (current !== undefined && ctx.onlyMissing === true) continue
    // a participant who already keeps their own item with this UID (the same outside
    // invitation, stored from their phone) keeps it rather than getting a second one
    if (current === undefined && place.calendarId !== placements[0]?.calendarId &&
      await tx.selectFrom('calendar_objects').select('id').where('calendar_id', '=', place.calendarId).where('uid', '=', item.uid).executeTakeFirst() !== undefined) continue
    const fromClient = ctx.clientBody?.calendarId === place.calendarId ? ctx.clientBody : undefined
    // a client's edit of single occurrences reaches every copy, as its other edits do
    const ical = fromClient?.ical ?? withOverridesOf(ctx.clientBody?.ical ?? ctx.overrides, renderItem(item.component, item.uid, item.fields, current?.ical))
    if (current !== undefined && current.ical === ical) {
      homeSpan ??= { firstStart: current.first_start, lastEnd: current.last_end }
      if (fromClient !== undefined) fromClient.stored = { etag: current.etag, ical }
      continue
    }
    const name = current?.name ?? fromClient?.name ?? place.name ?? objectName(item.uid)
    const span = fromClient?.span ?? spanOf(ical)
    homeSpan ??= span
    writes.push({ place, current, name, ical, span })
  }

  // one journal insert for the item and every copy removed and written, in that order (numbers rise with it)
  const own = ctx.journal ?? []
  const changes = [
    ...own,
    ...deletions(journal, gone),
    ...writes.map(w => ({ ...journal, op: w.current === undefined ? 'create' as const : 'update' as const, calendar_id: w.place.calendarId, object_name: w.name }))
  ]
  if (changes.length === 0) return homeSpan ?? { firstStart: null, lastEnd: null }
  // and in the same statement (a round trip is most of a small write's cost), each copy with the number of its entry
  const now = new Date()
  const inserts: InsertObject<Database, 'calendar_objects'>[] = []
  const updates: Array<{ id: number } & Record<string, unknown>> = []
  for (const [i, w] of writes.entries()) {
    const values = {
      ical: w.ical, etag: etagOf(w.ical), size: Buffer.byteLength(w.ical), uid: item.uid, component: item.component,
      first_start: w.span.firstStart, last_end: w.span.lastEnd, modified_seq: journalSeq(own.length + gone.length + i), updated_at: now
    }
    if (ctx.clientBody?.calendarId === w.place.calendarId) ctx.clientBody.stored = { etag: values.etag, ical: w.ical }
    if (w.current === undefined) inserts.push({ ...values, calendar_id: w.place.calendarId, name: w.name, item_kind: item.kind, item_id: item.id })
    else updates.push({ id: w.current.id, ...values })
  }
  // built once per shape (src/db/shaped.ts): every write of an item sends it
  const parts = [recordArgs(changeRows(changes)), recordArgs(gone.map(o => ({ id: o.id }))), recordArgs(updates), recordArgs(inserts as Record<string, unknown>[])] as const
  await runShaped(tx, `objects:journal:${parts.map(p => p.shape).join('')}`, parts.flatMap(p => p.args), (...args: unknown[]) => {
    const [journalRows, goneRows, updateRows, insertRows] = parts.map(p => p.records(args.splice(0, p.args.length)))
    let q = tx.with('j', db => db.insertInto('changes').values(journalRows as Insertable<ChangesTable>[]).returning('seq')) as unknown as WithJournal
    if (goneRows!.length > 0) q = q.with('gone', db => db.deleteFrom('calendar_objects').where('id', 'in', (goneRows as Array<{ id: number }>).map(r => r.id))) as unknown as WithJournal
    for (const [i, { id, ...values }] of (updateRows as typeof updates).entries()) {
      q = q.with(`w${i}`, db => db.updateTable('calendar_objects').set(values).where('id', '=', id)) as unknown as WithJournal
    }
    if (insertRows!.length > 0) q = q.with('new', db => db.insertInto('calendar_objects').values(insertRows as InsertObject<Database, 'calendar_objects'>[])) as unknown as WithJournal
    return q.selectFrom('j').select('seq')
  })
  return homeSpan ?? { firstStart: null, lastEnd: null }
}

/** A statement whose CTE `j` inserts journal rows (kysely cannot type a chain of CTEs built in a loop). */
type WithJournal = QueryCreator<Database & { j: { seq: number } }>

type JournalCtx = { origin: Origin; actorId: number | null }

function journalOf (item: Pick<ItemSnapshot, 'kind' | 'id' | 'orgId'>, ctx: JournalCtx) {
  return { origin: ctx.origin, actor_id: ctx.actorId, org_id: item.orgId, entity: item.kind, entity_id: item.id }
}

/** One journal 'delete' per removed copy, in the copies' order. */
function deletions (journal: ReturnType<typeof journalOf>, gone: Pick<CalendarObject, 'calendar_id' | 'name'>[]) {
  return gone.map(obj => ({ ...journal, op: 'delete' as const, calendar_id: obj.calendar_id, object_name: obj.name }))
}

async function deleteCopies (tx: Db, gone: CalendarObject[]): Promise<void> {
  if (gone.length > 0) await tx.deleteFrom('calendar_objects').where('id', 'in', gone.map(o => o.id)).execute()
}

function withOverridesOf (from: string | undefined, ical: string): string {
  return from === undefined ? ical : replaceOverrides(ical, from)
}

/** Removes every copy of the item: one journal insert and one DELETE, as syncPlacements removes copies. */
export async function removeAllPlacements (tx: Db, item: Pick<ItemSnapshot, 'kind' | 'id' | 'orgId'>, ctx: JournalCtx) {
  const gone = await objectsOf(tx, item.kind, item.id)
  await record(tx, deletions(journalOf(item, ctx), gone))
  await deleteCopies(tx, gone)
}

/**
 * A copy takes another name in its calendar (a client's MOVE there, RFC 4918
 * §9.9): the item, its body and its other copies stay as they are; the journal
 * says the old name went and the new one came, so sync-collection reports both.
 */
export async function renameCopy (tx: Db, item: Pick<ItemSnapshot, 'kind' | 'id' | 'orgId'>, copy: Pick<CalendarObject, 'id' | 'calendar_id' | 'name'>, name: string, ctx: JournalCtx): Promise<void> {
  const journal = journalOf(item, ctx)
  const seqs = await record(tx, [...deletions(journal, [copy]), { ...journal, op: 'create', calendar_id: copy.calendar_id, object_name: name }])
  await tx.updateTable('calendar_objects').set({ name, modified_seq: Math.max(...seqs), updated_at: new Date() }).where('id', '=', copy.id).execute()
}
