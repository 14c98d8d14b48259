import { transact } from '../db/connect.ts'
import type { Appointment, Task } from '../db/schema.ts'
import { createAppointment, deleteAppointment, updateAppointment } from '../domain/appointments.ts'
import { colleaguesIn } from '../domain/calendar-objects.ts'
import { DomainError } from '../domain/errors.ts'
import { createTask, deleteTask, updateTask } from '../domain/tasks.ts'
import { crmItem, involvedItem, type CrmItem } from './crm-side.ts'
import { appointmentInput, hashOf, taskInput, type EventData, type TaskData } from './items.ts'
import { overridesIcal } from './overrides.ts'
import { dropLink, linkByItem, linkByRemote, linkWritten, logSync, saveLink, unfinishedWrite } from './links.ts'
import { writeCrmVersion } from './outbound.ts'
import type { RemoteCollection, RemoteItem } from './provider.ts'
import type { RunContext } from './run-context.ts'

/**
 * One remote change applied to the CRM through the domain layer, with its
 * link and log line in the same transaction. An echo of our own write (same
 * hash as last written) is skipped; a change the CRM's rules refuse is
 * reverted at the source; when both sides changed, the newer one wins.
 */
export async function applyInbound (rc: RunContext, coll: RemoteCollection, item: RemoteItem): Promise<void> {
  const { db, conn } = rc
  const kind = coll.kind
  let link = await linkByRemote(db, conn.id, kind, item.remoteId)
  if (link === undefined && !item.deleted) {
    const matched = await matchExisting(rc, coll, item)
    if (matched === 'handled') return
    link = matched
  }
  if (link === undefined) return
  const itemId = link.item_id
  const row = await involvedItem(db, rc.user, kind, itemId)

  if (item.deleted) {
    await transact(db, async tx => {
      let outcome = 'gone already'
      if (row !== null) {
        try {
          outcome = kind === 'task' ? (await deleteTask(tx, rc.actor, itemId), 'deleted') : await deleteAppointment(tx, rc.actor, itemId)
        } catch (err) {
          if (!(err instanceof DomainError) || err.kind === 'not-found') throw err
          outcome = `kept: ${err.message}`
        }
      }
      await dropLink(tx, conn.id, kind, itemId)
      await logSync(tx, conn.id, { direction: 'in', action: 'deleted', kind, itemId, remoteId: item.remoteId, message: outcome === 'left' ? 'left the meeting (deleted in the external calendar by a participant)' : `deleted in the external calendar (${outcome})` })
    })
    if (row !== null) rc.counts.in++
    return
  }
  if (row === null) return // the CRM side went away; outbound removes the remote copy
  const data = item.data as EventData | TaskData
  const remoteHash = hashOf(data)
  if (remoteHash === link.written_hash) {
    if (item.etag !== link.remote_etag) await saveLink(db, conn.id, kind, itemId, { ...link, remote_etag: item.etag })
    return
  }
  const crm = await crmItem(db, rc.user, kind, row, rc.options, rc.publicUrl)
  if (link.crm_hash !== null && crm.hash !== link.crm_hash && item.updated !== null && crm.updatedAt > item.updated) {
    return // changed on both sides; the CRM's is newer and outbound writes it
  }
  if (unfinishedWrite(link) && crm.hash !== link.crm_hash) return // our write of the CRM's version did not finish: outbound writes it again (links.ts)
  try {
    await transact(db, async tx => {
      const updated = kind === 'task'
        ? await updateTask(tx, rc.actor, itemId, taskInput(data as TaskData, rc.user.timezone, row as Task))
        : await updateAppointment(tx, rc.actor, itemId, appointmentInput(data as EventData, row as Appointment), overridesOption(data as EventData, row.uid))
      const after = await crmItem(tx, rc.user, kind, updated, rc.options, rc.publicUrl)
      await saveLink(tx, conn.id, kind, itemId, { remote_id: item.remoteId, remote_etag: item.etag, written_hash: remoteHash, crm_hash: after.hash })
      await logSync(tx, conn.id, { direction: 'in', action: 'updated', kind, itemId, remoteId: item.remoteId, message: `"${updated.title}" changed in the external calendar` })
    })
    rc.counts.in++
  } catch (err) {
    if (!(err instanceof DomainError) || err.kind === 'not-found') throw err
    await revert(rc, coll, item, crm, err)
  }
}

/** The CRM refused the external edit: put the CRM's version back at the source and say why. */
async function revert (rc: RunContext, coll: RemoteCollection, item: RemoteItem, crm: CrmItem, err: DomainError): Promise<void> {
  const written = await writeCrmVersion(coll, item.remoteId, item.etag, crm)
  await transact(rc.db, async tx => {
    await linkWritten(tx, rc.conn.id, coll.kind, crm.ref.id, written, crm.hash)
    await logSync(tx, rc.conn.id, { direction: 'out', action: 'reverted', kind: coll.kind, itemId: crm.ref.id, remoteId: item.remoteId, message: `external change to "${crm.row.title}" reverted: ${err.message}` })
  })
  rc.counts.out++
}

/**
 * A remote item without a link: a copy we made before (hidden CRM id), a copy
 * of the same UID made by someone else, or a new item to create in the CRM.
 */
async function matchExisting (rc: RunContext, coll: RemoteCollection, item: RemoteItem) {
  const { db, conn, user } = rc
  const kind = coll.kind
  let row: Appointment | Task | null = null
  if (item.ref !== null && item.ref.kind === kind) {
    row = await involvedItem(db, user, kind, item.ref.id)
    if (row === null && await removeUnfinishedCopy(rc, coll, item, item.ref.id)) return 'handled' as const
  }
  if (row === null && item.uid !== null) {
    const table = kind === 'task' ? 'tasks' as const : 'appointments' as const
    const byUid = await db.selectFrom(table).select('id').where('org_id', '=', user.org_id).where('uid', '=', item.uid).executeTakeFirst()
    if (byUid !== undefined) row = await involvedItem(db, user, kind, byUid.id)
  }
  if (row !== null) {
    const existing = await linkByItem(db, conn.id, kind, row.id)
    if (existing !== undefined && existing.remote_id !== null && existing.remote_id !== item.remoteId) return undefined // a second copy: leave it alone
    // crm_hash null: the next step compares both sides by time, as after an outage
    const link = await saveLink(db, conn.id, kind, row.id, { remote_id: item.remoteId, remote_etag: null, written_hash: null, crm_hash: null })
    await logSync(db, conn.id, { direction: 'none', action: 'linked', kind, itemId: row.id, remoteId: item.remoteId, message: `"${row.title}" matched an existing external item instead of creating a copy` })
    return link
  }
  await createFromRemote(rc, coll, item)
  return 'handled' as const
}

/**
 * Our copy of a CRM item that is gone for this user (deleted, left, reassigned) while its link still
 * waits for the copy's id: the create reached the provider but its answer did not (a fault after the
 * write), and the CRM item went before the retry. It is removed outside, as the outbound pass would
 * have removed it, never taken in as a new item: that brought a deleted item back on every side (issue 11).
 */
async function removeUnfinishedCopy (rc: RunContext, coll: RemoteCollection, item: RemoteItem, itemId: number): Promise<boolean> {
  const { db, conn } = rc
  const link = await linkByItem(db, conn.id, coll.kind, itemId)
  if (link === undefined || link.remote_id !== null) return false
  await coll.remove(item.remoteId, item.etag)
  await transact(db, async tx => {
    await dropLink(tx, conn.id, coll.kind, itemId)
    await logSync(tx, conn.id, { direction: 'out', action: 'deleted', kind: coll.kind, itemId, remoteId: item.remoteId, message: 'removed from the external calendar (deleted, left or reassigned in the CRM before its copy was finished)' })
  })
  rc.counts.out++
  return true
}

async function createFromRemote (rc: RunContext, coll: RemoteCollection, item: RemoteItem): Promise<void> {
  const { db, conn, user } = rc
  const kind = coll.kind
  const data = item.data as EventData | TaskData
  let crm: CrmItem
  let uidKept = false
  try {
    crm = await transact(db, async tx => {
      let row: Appointment | Task
      if (kind === 'task') {
        row = await createTask(tx, rc.actor, { ...taskInput(data as TaskData, user.timezone), typeId: rc.options.taskTypeId ?? undefined })
      } else {
        const participantIds = await colleaguesIn(tx, user, new Set(item.attendees.map(e => e.toLowerCase())))
        uidKept = item.uid !== null && (await tx.selectFrom('appointments').select('id').where('org_id', '=', user.org_id).where('uid', '=', item.uid).executeTakeFirst()) === undefined
        row = await createAppointment(tx, rc.actor, {
          ...appointmentInput(data as EventData),
          ...(uidKept ? { uid: item.uid as string } : {}),
          ...(rc.options.appointmentTypeId === null ? {} : { typeId: rc.options.appointmentTypeId }),
          ...(participantIds.length > 0 ? { participantIds } : {})
        })
        if ((data as EventData).overrides.length > 0) row = await updateAppointment(tx, rc.actor, row.id, {}, overridesOption(data as EventData, row.uid))
      }
      const after = await crmItem(tx, user, kind, row, rc.options, rc.publicUrl)
      await saveLink(tx, conn.id, kind, row.id, { remote_id: item.remoteId, remote_etag: item.etag, written_hash: hashOf(data), crm_hash: after.hash })
      await logSync(tx, conn.id, { direction: 'in', action: 'created', kind, itemId: row.id, remoteId: item.remoteId, message: `"${row.title}" created from the external calendar` })
      return after
    })
    rc.counts.in++
  } catch (err) {
    if (!(err instanceof DomainError)) throw err
    // nothing to revert to: the external item stays, unlinked, and the log says why
    await logSync(db, conn.id, { direction: 'in', action: 'error', kind, remoteId: item.remoteId, message: `"${(data as { title: string }).title}" not taken into the CRM: ${err.message}` })
    return
  }
  if (!uidKept) {
    // Nothing outside ties the remote item to the CRM one (tasks have no UID, a taken UID was replaced):
    // write our hidden reference once, so a reconnect after the links are gone matches instead of copying.
    const written = await writeCrmVersion(coll, item.remoteId, item.etag, crm)
    await linkWritten(db, conn.id, kind, crm.ref.id, written, crm.hash)
  }
}

/** A series' occurrences edited outside replace the stored ones in every copy. */
function overridesOption (e: EventData, uid: string): { overrides?: string } {
  return e.rrule === null ? {} : { overrides: overridesIcal(uid, e.allDay ? null : e.timezone, e.overrides) }
}
