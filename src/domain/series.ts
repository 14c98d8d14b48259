import { transact, type Db } from '../db/connect.ts'
import { instancesBetween, parseObject } from '../ical/index.ts'
import { overridesIcal, overridesOf, type Override } from '../sync/overrides.ts'
import type { Actor } from './actor.ts'
import { createAppointment, loadAppointment, participantsOf, updateAppointment, type AppointmentInput, type AppointmentView } from './appointments.ts'
import { invalid } from './errors.ts'
import { addDays, dateOnly, instant } from './values.ts'

/**
 * One occurrence of a recurring appointment, or the occurrences from one on,
 * changed the way calendar apps do it, so a CalDAV client or Google sees the
 * same thing:
 * - this occurrence: a RECURRENCE-ID component in the stored body (edit), or
 *   an EXDATE (delete);
 * - this and following: the series ends before the occurrence (UNTIL) and,
 *   for an edit, a new series with the change starts at it (RFC 5545 has no
 *   "THISANDFUTURE" that clients honour; Google and Apple split like this).
 * The occurrence is named by its original start: an ISO instant, or a date
 * for an all-day series.
 */
export type OccurrenceChange = { title?: string; start?: string; end?: string; location?: string; description?: string }

async function seriesFor (db: Db, actor: Actor, id: number, occurrence: string) {
  const { appt } = await loadAppointment(db, actor.user, id, 'write')
  if (appt.rrule === null) throw invalid('occurrence', 'this appointment does not repeat')
  const key = appt.all_day ? dateOnly('occurrence', occurrence) : instant('occurrence', occurrence).toISOString()
  const home = await db.selectFrom('calendar_objects').select('ical').where('item_kind', '=', 'appointment').where('item_id', '=', id)
    .where('calendar_id', '=', appt.calendar_id).executeTakeFirst()
  const overrides = home === undefined ? [] : overridesOf(home.ical)
  return { appt, key, overrides, ical: home?.ical }
}

const sameOccurrence = (a: string, b: string) => (a.length === 10 || b.length === 10 ? a.slice(0, 10) === b.slice(0, 10) : Date.parse(a) === Date.parse(b))

/** Edits one occurrence: its override replaces any earlier one for the same start. */
export async function editOccurrence (db: Db, actor: Actor, id: number, occurrence: string, change: OccurrenceChange): Promise<AppointmentView> {
  return transact(db, async tx => {
    const { appt, key, overrides } = await seriesFor(tx, actor, id, occurrence)
    const before = overrides.find(o => sameOccurrence(o.recurrenceId, key))
    const length = appt.all_day
      ? Date.parse(appt.end_date!) - Date.parse(appt.start_date!)
      : appt.ends_at!.getTime() - appt.starts_at!.getTime()
    const start = change.start ?? before?.start ?? key
    const end = change.end ?? before?.end ?? (appt.all_day ? addDays(start, Math.round(length / 86_400_000)) : new Date(Date.parse(start) + length).toISOString())
    if (appt.all_day) { dateOnly('start', start); dateOnly('end', end) } else { instant('start', start); instant('end', end) }
    if (Date.parse(end) < Date.parse(start)) throw invalid('end', 'must not be before start')
    const title = change.title ?? before?.title ?? appt.title
    if (title.trim() === '') throw invalid('title', 'is required')
    const next: Override = {
      recurrenceId: key, title, start, end,
      location: change.location ?? before?.location ?? appt.location,
      description: change.description ?? before?.description ?? appt.description
    }
    const list = [...overrides.filter(o => !sameOccurrence(o.recurrenceId, key)), next]
    return updateAppointment(tx, actor, id, {}, { overrides: overridesIcal(appt.uid, appt.all_day ? null : appt.timezone, list) })
  })
}

/** Deletes one occurrence: an EXDATE, and its override (if it had one) goes. */
export async function deleteOccurrence (db: Db, actor: Actor, id: number, occurrence: string): Promise<AppointmentView> {
  return transact(db, async tx => {
    const { appt, key, overrides } = await seriesFor(tx, actor, id, occurrence)
    const exdates = appt.exdates.some(d => sameOccurrence(d, key)) ? appt.exdates : [...appt.exdates, key]
    return updateAppointment(tx, actor, id, { exdates }, { overrides: overridesIcal(appt.uid, appt.all_day ? null : appt.timezone, overrides.filter(o => !sameOccurrence(o.recurrenceId, key))) })
  })
}

/** The rule with UNTIL just before the occurrence (COUNT gives way to it). */
function endedBefore (rrule: string, key: string): string {
  const parts = rrule.split(';').filter(p => !/^(UNTIL|COUNT)=/.test(p))
  const until = key.length === 10
    ? addDays(key, -1).replace(/-/g, '')
    : new Date(Date.parse(key) - 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  return [...parts, `UNTIL=${until}`].join(';')
}

/**
 * This and following. With no change, the occurrences from this one on are
 * deleted; with a change, they become a new series that starts at the
 * occurrence (moved by the change) with the same rule, people and case.
 * Exceptions before the split stay with the old series; those after it move
 * to the new one, shifted by as much as the split moved the occurrence.
 */
export async function splitSeries (db: Db, actor: Actor, id: number, occurrence: string, change: OccurrenceChange | null): Promise<{ ended: AppointmentView; started: AppointmentView | null }> {
  return transact(db, async tx => {
    const { appt, key, overrides, ical } = await seriesFor(tx, actor, id, occurrence)
    const first = appt.all_day ? appt.start_date! : appt.starts_at!.toISOString()
    if (sameOccurrence(first, key) || Date.parse(key) < Date.parse(first)) {
      throw invalid('occurrence', 'this is the first occurrence: change or delete the whole series instead')
    }
    const rule = appt.rrule!
    const earlier = overrides.filter(o => Date.parse(o.recurrenceId) < Date.parse(key))
    const ended = await updateAppointment(tx, actor, id, {
      rrule: endedBefore(rule, key),
      exdates: appt.exdates.filter(d => Date.parse(d) < Date.parse(key))
    }, { overrides: overridesIcal(appt.uid, appt.all_day ? null : appt.timezone, earlier) })
    if (change === null) return { ended, started: null }
    const length = appt.all_day
      ? Date.parse(appt.end_date!) - Date.parse(appt.start_date!)
      : appt.ends_at!.getTime() - appt.starts_at!.getTime()
    const start = change.start ?? key
    const end = change.end ?? (appt.all_day ? addDays(start, Math.round(length / 86_400_000)) : new Date(Date.parse(start) + length).toISOString())
    // a COUNT counts from the first occurrence: the new series gets what is left of it
    const count = /(?:^|;)COUNT=(\d+)/.exec(rule)
    let carried = rule
    if (count !== null && ical !== undefined) {
      const before = instancesBetween(parseObject(ical, { unknownTimezone: 'floating' }), new Date(first), new Date(key), { floatingTimezone: appt.timezone ?? 'UTC' }).length
      const left = Number(count[1]) - before
      if (left < 1) throw invalid('occurrence', 'the series has ended before this occurrence')
      carried = rule.replace(/COUNT=\d+/, `COUNT=${left}`)
    }
    const input: AppointmentInput = {
      calendarId: appt.calendar_id, title: change.title ?? appt.title, location: change.location ?? appt.location,
      description: change.description ?? appt.description, allDay: appt.all_day, start, end,
      timezone: appt.all_day ? undefined : appt.timezone, rrule: carried, caseId: appt.case_id, typeId: appt.type_id,
      status: appt.status, private: appt.private, busy: appt.busy, ownerId: appt.owner_id,
      participantIds: await participantsOf(tx, id),
      exdates: appt.exdates.filter(d => Date.parse(d) > Date.parse(key))
    }
    const created = await createAppointment(tx, actor, input)
    // the occurrences edited after the split point stay edited: their exceptions move to the new series, shifted as it was
    const later = overrides.filter(o => Date.parse(o.recurrenceId) > Date.parse(key))
    if (later.length === 0) return { ended, started: created }
    const shiftMs = Date.parse(start) - Date.parse(key)
    const shift = (v: string) => appt.all_day ? addDays(v, Math.round(shiftMs / 86_400_000)) : new Date(Date.parse(v) + shiftMs).toISOString()
    const moved = later.map(o => ({ ...o, recurrenceId: shift(o.recurrenceId), start: shift(o.start), end: shift(o.end) }))
    const started = await updateAppointment(tx, actor, created.id, {}, { overrides: overridesIcal(created.uid, appt.all_day ? null : appt.timezone, moved) })
    return { ended, started }
  })
}
