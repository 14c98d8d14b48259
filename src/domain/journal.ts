import type { Db } from '../db/connect.ts'
import type { ChangesTable } from '../db/schema.ts'
import { sql, type Insertable, type RawBuilder } from 'kysely'
import { DomainError } from './errors.ts'

export type Origin = 'api' | 'caldav' | 'cli' | 'feed' | 'web' | 'system' | `google:${string}` | `exchange:${string}` | `graph:${string}`

export type ChangeInput = Omit<Insertable<ChangesTable>, 'seq' | 'at' | 'detail'> & { detail?: Record<string, unknown> }

/** Records changes; call it with the transaction that makes them. Returns their sequence numbers. */
export async function record (tx: Db, changes: ChangeInput[]): Promise<number[]> {
  if (changes.length === 0) return []
  const rows = await tx.insertInto('changes').values(changeRows(changes)).returning('seq').execute()
  return rows.map(r => r.seq)
}

/** The journal's rows for these changes, as record() inserts them (or a statement that writes beside them: journalSeq). */
export function changeRows (changes: ChangeInput[]): Insertable<ChangesTable>[] {
  return changes.map(c => ({ ...c, detail: c.detail === undefined ? null : JSON.stringify(c.detail) }))
}

/**
 * In a statement whose CTE `j` inserts changeRows(…) RETURNING seq: the
 * number the k-th row took. One INSERT takes its numbers in the order of its
 * rows, so the k-th smallest is the k-th row's.
 */
export function journalSeq (k: number): RawBuilder<number> {
  return sql<number>`(SELECT seq FROM j ORDER BY seq OFFSET ${k} LIMIT 1)`
}

/** The calendar's newest change, the base of its sync token and ctag; 0 when it has none. */
export async function calendarSeq (db: Db, calendarId: number): Promise<number> {
  const row = await db.selectFrom('changes').where('calendar_id', '=', calendarId)
    .select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
  return Number(row?.seq ?? 0)
}

/** Object names in the calendar (or address book) changed after `seq` (created, updated or deleted), newest seq per name. */
export async function objectChangesSince (db: Db, calendarId: number, seq: number, limit?: number, column: 'calendar_id' | 'address_book_id' = 'calendar_id') {
  let q = db.selectFrom('changes')
    .where(column, '=', calendarId).where('seq', '>', seq).where('object_name', 'is not', null)
    .select(eb => ['object_name', eb.fn.max('seq').as('seq')])
    .groupBy('object_name')
    .orderBy('seq')
  if (limit !== undefined) q = q.limit(limit)
  const rows = await q.execute()
  return rows.map(r => ({ name: r.object_name as string, seq: Number(r.seq) }))
}

export async function changesSince (db: Db, orgId: number, seq: number, limit = 500) {
  return db.selectFrom('changes').selectAll().where('org_id', '=', orgId).where('seq', '>', seq)
    .orderBy('seq').limit(limit).execute()
}

/** The journal's detail of an update: which fields changed (not their values, which may be private). */
export function changedFields (before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const changed: string[] = []
  for (const key of Object.keys(after)) {
    if (key === 'updated_at' || key === 'version') continue
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed.push(key)
  }
  return { fields: changed }
}

export type MemberChanges<R> = { seq: number; changed: R[]; deleted: string[]; truncated: boolean }

/**
 * What changed among a collection's members (a calendar's objects, an
 * address book's cards) after journal sequence `since`, complete up to `now`
 * (the collection's newest committed change); 0: everything there is. With
 * a limit it stops early and says so. The caller reads its own rows: every
 * member carries the sequence of its last change (modified_seq).
 */
export async function memberChanges<R extends { name: string; modified_seq: number }> (db: Db, since: number, now: number, limit: number | undefined, read: {
  /** members changed up to `now`, by modified_seq then id, at most `limit` when given */
  upTo (now: number, limit?: number): Promise<R[]>
  /** changed names after `since` (objectChangesSince for this collection) */
  names (since: number, limit?: number): Promise<{ name: string; seq: number }[]>
  byNames (names: string[]): Promise<R[]>
}): Promise<MemberChanges<R>> {
  if (since > now) {
    // a token from a process that saw a later horizon: nothing new up to ours yet
    const newest = await db.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
    if (since > Number(newest?.seq ?? 0)) throw new DomainError('precondition-failed', 'the sync token was never handed out', { rule: 'valid-sync-token' })
    return { seq: since, changed: [], deleted: [], truncated: false }
  }
  if (since === 0) {
    const rows = await read.upTo(now, limit === undefined ? undefined : limit + 1)
    if (limit !== undefined && rows.length > limit) {
      // every member has its own sequence number, so the page ends exactly at its last one
      const page = rows.slice(0, limit)
      return { seq: Number(page.at(-1)!.modified_seq), changed: page, deleted: [], truncated: true }
    }
    return { seq: now, changed: rows, deleted: [], truncated: false }
  }
  // changes past `now` are left for the next sync: an earlier one may still be committing
  const names = (await read.names(since, limit === undefined ? undefined : limit + 1)).filter(n => n.seq <= now)
  const truncated = limit !== undefined && names.length > limit
  const page = truncated ? names.slice(0, limit) : names
  const present = page.length === 0 ? [] : await read.byNames(page.map(n => n.name))
  const byName = new Map(present.map(r => [r.name, r]))
  const changed: R[] = []
  const deleted: string[] = []
  for (const n of page) {
    const row = byName.get(n.name)
    if (row === undefined) deleted.push(n.name); else changed.push(row)
  }
  return { seq: truncated ? page.at(-1)!.seq : Math.max(now, since), changed, deleted, truncated }
}
