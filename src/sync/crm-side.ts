import type { Db } from '../db/connect.ts'
import type { ExpressionBuilder } from 'kysely'
import type { Appointment, Database, ItemKind, Task, User } from '../db/schema.ts'
import { eventOf, hashOf, taskOf, type ItemData } from './items.ts'
import type { SyncOptions } from './options.ts'
import { overridesOf, type Override } from './overrides.ts'
import type { ItemRef, Window } from './provider.ts'

/**
 * The CRM side of a link as sync sees it: the item if this user takes part in
 * it (owner, participant or assignee), its synced data, the CRM fields for the
 * external description, and one hash over both.
 */
export type CrmItem = { ref: ItemRef; row: Appointment | Task; data: ItemData; extras: string[]; hash: string; updatedAt: Date }

/** The appointments a user takes part in (owner or participant), as a where-clause: the one definition sync uses. */
export const takesPart = (userId: number) => (eb: ExpressionBuilder<Database, 'appointments'>) => eb.or([
  eb('appointments.owner_id', '=', userId),
  eb('appointments.id', 'in', eb.selectFrom('appointment_participants').select('appointment_id').where('user_id', '=', userId))
])

/** The appointments with an instance inside the window (open ends included), as a where-clause. */
export const inWindow = (w: Window) => (eb: ExpressionBuilder<Database, 'appointments'>) => eb.and([
  ...(w.from === null ? [] : [eb.or([eb('appointments.span_end', 'is', null), eb('appointments.span_end', '>=', w.from)])]),
  ...(w.to === null ? [] : [eb('appointments.span_start', '<=', w.to)])
])

export async function involvedItem (db: Db, user: User, kind: ItemKind, id: number): Promise<Appointment | Task | null> {
  if (kind === 'task') {
    return (await db.selectFrom('tasks').selectAll().where('id', '=', id).where('assignee_id', '=', user.id).executeTakeFirst()) ?? null
  }
  return (await db.selectFrom('appointments').selectAll().where('id', '=', id).where(takesPart(user.id)).executeTakeFirst()) ?? null
}

async function extrasOf (db: Db, kind: ItemKind, row: Appointment | Task, o: SyncOptions, publicUrl: string): Promise<string[]> {
  const lines: string[] = []
  for (const field of o.descriptionFields) {
    if (field === 'case' && row.case_id !== null) {
      const c = await db.selectFrom('cases').select('title').where('id', '=', row.case_id).executeTakeFirst()
      if (c !== undefined) lines.push(`Case: ${c.title}`)
    }
    if (field === 'type' && row.type_id !== null) {
      const t = await db.selectFrom('item_types').select('name').where('id', '=', row.type_id).executeTakeFirst()
      if (t !== undefined) lines.push(`Type: ${t.name}`)
    }
    if (field === 'status') lines.push(`Status: ${row.status.replace('_', ' ')}`)
    if (field === 'participants' && kind === 'appointment') {
      const names = await db.selectFrom('appointment_participants').innerJoin('users', 'users.id', 'appointment_participants.user_id')
        .select('users.name').where('appointment_id', '=', row.id).orderBy('users.name').execute()
      if (names.length > 0) lines.push(`Participants: ${names.map(n => n.name).join(', ')}`)
    }
    if (field === 'link') lines.push(`${publicUrl}/${kind === 'task' ? 'tasks' : 'appointments'}/${row.id}/edit`)
  }
  return lines
}

/** The single-occurrence edits kept in the appointment's home copy. */
async function storedOverrides (db: Db, a: Appointment): Promise<Override[]> {
  if (a.rrule === null) return []
  const obj = await db.selectFrom('calendar_objects').select('ical')
    .where('item_kind', '=', 'appointment').where('item_id', '=', a.id).where('calendar_id', '=', a.calendar_id).executeTakeFirst()
  return obj === undefined ? [] : overridesOf(obj.ical)
}

export async function crmItem (db: Db, user: User, kind: ItemKind, row: Appointment | Task, o: SyncOptions, publicUrl: string): Promise<CrmItem> {
  const data = kind === 'task' ? taskOf(row as Task, user.timezone) : eventOf(row as Appointment, await storedOverrides(db, row as Appointment))
  const extras = await extrasOf(db, kind, row, o, publicUrl)
  return {
    ref: { kind, id: row.id, uid: row.uid },
    row,
    data,
    extras,
    hash: extras.length === 0 ? `${hashOf(data)}.` : `${hashOf(data)}.${hashOf(extras)}`,
    updatedAt: row.updated_at
  }
}
