import { transact, type Db } from '../db/connect.ts'
import type { Actor } from './actor.ts'
import { updateAppointment } from './appointments.ts'
import { calendarFor, checkPreconditions, currentWithVersion, deleteObject, putObject, type CalendarRef, type Preconditions } from './calendar-objects.ts'
import { DomainError, notFound } from './errors.ts'
import { renameCopy } from './objects.ts'
import { updateTask } from './tasks.ts'

/**
 * COPY and MOVE of calendar object resources (RFC 4918 §9.8, §9.9) as CRM
 * operations, each in one transaction. A copy is a new item at the
 * destination, as if its body had been PUT there. A move keeps the item (its
 * id, history, participants' copies and sync links): inside a calendar only
 * the name of this copy changes; into another calendar the item changes its
 * home calendar, which only its home copy can do.
 *
 * Overwrite (RFC 4918 §10.6): an object at the destination is deleted first,
 * as a DELETE there would (the owner's removes the item for everyone, a
 * participant's only their copy), unless a copy simply replaces an object of
 * the same UID, which is then edited like a PUT would.
 */
export type Destination = { calendar: CalendarRef; name: string; overwrite: boolean }

const exists = () => new DomainError('precondition-failed', 'Overwrite: F and the destination exists')

/** COPY: `body` (as the user sees the source) with its UID becomes a new object at the destination. */
export async function copyObject (db: Db, actor: Actor, source: { uid: string; body: string }, to: Destination): Promise<{ created: boolean }> {
  return transact(db, async tx => {
    const cal = await calendarFor(tx, actor.user, to.calendar, 'write')
    const { current } = await currentWithVersion(tx, cal.id, to.name)
    if (current !== undefined && !to.overwrite) throw exists()
    if (current !== undefined && current.uid !== source.uid) await deleteObject(tx, actor, cal, to.name)
    await putObject(tx, actor, cal, to.name, source.body)
    return { created: current === undefined }
  })
}

/** MOVE of the object `name` of a calendar, which the caller has checked is not the destination itself. */
export async function moveObject (db: Db, actor: Actor, from: CalendarRef, name: string, to: Destination, cond: Preconditions = {}): Promise<{ created: boolean }> {
  return transact(db, async tx => {
    const src = await calendarFor(tx, actor.user, from, 'write')
    const dst = await calendarFor(tx, actor.user, to.calendar, 'write')
    const { current } = await currentWithVersion(tx, src.id, name)
    if (current === undefined) throw notFound('calendar object')
    checkPreconditions(current, cond)
    if (!dst.components.includes(current.component)) throw new DomainError('forbidden', `${dst.name} does not hold ${current.component} objects`, { rule: 'supported-calendar-component' })
    const { current: target, clash } = await currentWithVersion(tx, dst.id, to.name, current.uid)
    // RFC 4791 §5.3.2.1 no-uid-conflict; in its own calendar the object only clashes with itself
    if (clash !== undefined && !(dst.id === src.id && clash === name)) throw new DomainError('conflict', `another object in that calendar (${clash}) has UID ${current.uid}`, { rule: 'no-uid-conflict', field: clash })
    if (target !== undefined) {
      if (!to.overwrite) throw exists()
      if (target.item_kind === current.item_kind && target.item_id === current.item_id) throw new DomainError('conflict', 'the destination is another copy of the same item')
      await deleteObject(tx, actor, dst, to.name)
    }
    const item = { kind: current.item_kind, id: current.item_id, orgId: src.org_id }
    if (dst.id === src.id) {
      await renameCopy(tx, item, current, to.name, { origin: actor.origin, actorId: actor.user.id })
      return { created: target === undefined }
    }
    const table = current.item_kind === 'appointment' ? 'appointments' : 'tasks'
    const home = await tx.selectFrom(table).select('calendar_id').where('id', '=', current.item_id).executeTakeFirstOrThrow()
    // a participant's copy is where the participant rules put it (PRODUCT.md): only the home copy moves the item
    if (home.calendar_id !== src.id) throw new DomainError('forbidden', 'this appointment belongs to someone else; your copy stays in the calendar it is in', { rule: 'need-privileges' })
    const opts = { ifVersion: current.version, clientBody: { calendarId: dst.id, name: to.name, ical: current.ical } }
    if (current.item_kind === 'appointment') await updateAppointment(tx, actor, current.item_id, { calendarId: dst.id }, opts)
    else await updateTask(tx, actor, current.item_id, { calendarId: dst.id }, opts)
    return { created: target === undefined }
  })
}
