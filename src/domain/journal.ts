import type { Db } from '../db/connect.ts'
import type { ChangesTable } from '../db/schema.ts'
import type { Insertable } from 'kysely'

export type Origin = 'api' | 'caldav' | 'cli' | 'feed' | 'web' | 'system' | `google:${string}` | `exchange:${string}` | `graph:${string}`

export type ChangeInput = Omit<Insertable<ChangesTable>, 'seq' | 'at' | 'detail'> & { detail?: Record<string, unknown> }

/** Records changes; call it with the transaction that makes them. Returns their sequence numbers. */
export async function record (tx: Db, changes: ChangeInput[]): Promise<number[]> {
  if (changes.length === 0) return []
  const rows = await tx.insertInto('changes')
    .values(changes.map(c => ({ ...c, detail: c.detail === undefined ? null : JSON.stringify(c.detail) })))
    .returning('seq')
    .execute()
  return rows.map(r => r.seq)
}

/** The calendar's newest change, the base of its sync token and ctag; 0 when it has none. */
export async function calendarSeq (db: Db, calendarId: number): Promise<number> {
  const row = await db.selectFrom('changes').where('calendar_id', '=', calendarId)
    .select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
  return Number(row?.seq ?? 0)
}

/** Object names in the calendar changed after `seq` (created, updated or deleted), newest seq per name. */
export async function objectChangesSince (db: Db, calendarId: number, seq: number, limit?: number) {
  let q = db.selectFrom('changes')
    .where('calendar_id', '=', calendarId).where('seq', '>', seq).where('object_name', 'is not', null)
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
