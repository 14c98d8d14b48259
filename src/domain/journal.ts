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

/** A collection of members: a calendar (its objects) or an address book (its cards); the journal and the members name it by the same column. */
export type Collection = { column: 'calendar_id'; members: 'calendar_objects'; id: number } | { column: 'address_book_id'; members: 'contacts'; id: number }

/**
 * Names deleted from the collection in (since, now] that are not members
 * now, each at its last deletion, in that order. It reads the journal's
 * deletions only, one at a time in order (changes_*_deleted), so a page costs
 * what it holds. A name deleted again after `now` waits for the next sync, as
 * any change after `now` does; a name re-created (or moved back in) is a
 * member, reported as changed.
 */
export async function deletedNames (db: Db, c: Collection, since: number, now: number, limit?: number): Promise<{ name: string; seq: number }[]> {
  const col = sql.ref(c.column)
  const rows = await sql<{ name: string; seq: string | number }>`
    SELECT d.object_name AS name, d.seq FROM changes d
    WHERE d.${col} = ${c.id} AND d.op = 'delete' AND d.object_name IS NOT NULL AND d.seq > ${since} AND d.seq <= ${now}
      AND NOT EXISTS (SELECT 1 FROM changes l WHERE l.object_name = d.object_name AND l.op = 'delete' AND l.seq > d.seq AND l.${col} = ${c.id})
      AND NOT EXISTS (SELECT 1 FROM ${sql.table(c.members)} m WHERE m.${col} = ${c.id} AND m.name = d.object_name)
    ORDER BY d.seq${limit === undefined ? sql`` : sql` LIMIT ${limit}`}`.execute(db)
  return rows.rows.map(r => ({ name: r.name, seq: Number(r.seq) }))
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
 * member carries the sequence of its last change (modified_seq), so the
 * members changed and the names deleted (deletedNames) are each read by
 * sequence range, a page at a time, and merged by sequence.
 */
export async function memberChanges<R extends { name: string; modified_seq: number }> (db: Db, since: number, now: number, limit: number | undefined, read: {
  /** members with modified_seq in (since, now], by modified_seq then id, at most `limit` when given */
  changed (since: number, now: number, limit?: number): Promise<R[]>
  /** the collection whose deleted names are read (deletedNames) */
  collection: Collection
}): Promise<MemberChanges<R>> {
  if (since > now) {
    // a token from a process that saw a later horizon: nothing new up to ours yet
    const newest = await db.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
    if (since > Number(newest?.seq ?? 0)) throw new DomainError('precondition-failed', 'the sync token was never handed out', { rule: 'valid-sync-token' })
    return { seq: since, changed: [], deleted: [], truncated: false }
  }
  // changes past `now` are left for the next sync: an earlier one may still be committing
  const more = limit === undefined ? undefined : limit + 1
  const rows = await read.changed(since, now, more)
  // a first sync has nothing to forget
  const gone = since === 0 ? [] : await deletedNames(db, read.collection, since, now, more)
  // every change has its own sequence number, so a page ends exactly at its last one
  const changed: R[] = []
  const deleted: string[] = []
  let i = 0
  let j = 0
  let last = since
  while ((i < rows.length || j < gone.length) && (limit === undefined || changed.length + deleted.length < limit)) {
    const row = rows[i]
    const name = gone[j]
    if (row !== undefined && (name === undefined || Number(row.modified_seq) < name.seq)) {
      changed.push(row)
      last = Number(row.modified_seq)
      i++
    } else {
      deleted.push(name!.name)
      last = name!.seq
      j++
    }
  }
  const truncated = i < rows.length || j < gone.length
  return { seq: truncated ? last : now, changed, deleted, truncated }
}
