import { transact, type Db } from '../db/connect.ts'
import type { Access, Calendar, CalendarKind, User } from '../db/schema.ts'
import { allows, requireCalendar, requireSameOrgUser, visibleCalendars, type VisibleCalendar } from './access.ts'
import type { Actor } from './actor.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { record } from './journal.ts'
import { removeAllPlacements } from './objects.ts'
import { text, timeZone } from './values.ts'

export type CalendarInput = {
  name?: string
  description?: string
  color?: string | null
  order?: number
  timezone?: string | null
  components?: ('VEVENT' | 'VTODO')[]
  slug?: string
}

const COLOR = /^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** A calendar the user may write that holds `component`: where an item may be put. */
export async function writableCalendarFor (tx: Db, user: User, calendarId: number, component: 'VEVENT' | 'VTODO'): Promise<VisibleCalendar> {
  return writableCalendar(await requireCalendar(tx, user, calendarId, 'write'), component)
}

/** writableCalendarFor of a calendar access.ts has just handed out for this user. */
export function writableCalendar (cal: VisibleCalendar, component: 'VEVENT' | 'VTODO'): VisibleCalendar {
  if (!allows(cal.access, 'write')) throw new DomainError('forbidden', 'this calendar is shared with you read-only', { rule: 'need-privileges' })
  if (!cal.components.includes(component)) throw invalid('calendarId', component === 'VEVENT' ? 'this calendar holds tasks only' : 'this calendar holds appointments only')
  return cal
}

/** The user's default calendar of a kind, created on first use so every user always has one. */
export async function defaultCalendarOf (tx: Db, userId: number, kind: 'personal' | 'tasks'): Promise<Calendar> {
  const found = await tx.selectFrom('calendars').selectAll().where('owner_id', '=', userId).where('kind', '=', kind)
    .where('deleted_at', 'is', null).orderBy('is_default', 'desc').orderBy('id').executeTakeFirst()
  if (found !== undefined) return found
  const user = await tx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow()
  return tx.insertInto('calendars').values({
    org_id: user.org_id, owner_id: userId, kind, is_default: true,
    slug: kind === 'tasks' ? 'tasks' : 'calendar',
    name: kind === 'tasks' ? 'Tasks' : 'Calendar',
    components: kind === 'tasks' ? ['VTODO'] : ['VEVENT'],
    timezone: user.timezone, dead_props: '{}'
  }).returningAll().executeTakeFirstOrThrow()
}

function checkInput (input: CalendarInput) {
  if (input.name !== undefined) text('name', input.name, { max: 200, required: true })
  if (input.description !== undefined) text('description', input.description, { max: 10_000 })
  if (input.color !== undefined && input.color !== null && !COLOR.test(input.color)) throw invalid('color', 'must be #RRGGBB or #RRGGBBAA')
  if (input.order !== undefined && !(Number.isInteger(input.order) && Math.abs(input.order) < 2 ** 31)) throw invalid('order', 'must be a whole number between -2147483648 and 2147483647')
  if (input.timezone !== undefined && input.timezone !== null) timeZone('timezone', input.timezone)
  if (input.components !== undefined) {
    if (!Array.isArray(input.components) || input.components.length === 0 || input.components.some(c => c !== 'VEVENT' && c !== 'VTODO')) {
      throw invalid('components', 'must list VEVENT and/or VTODO')
    }
  }
  if (input.slug !== undefined && !SLUG.test(input.slug)) throw invalid('slug', 'must be letters, digits, dot, dash or underscore')
}

export async function createCalendar (db: Db, actor: Actor, input: CalendarInput & { kind?: CalendarKind }): Promise<Calendar> {
  checkInput(input)
  const kind = input.kind ?? ((input.components ?? ['VEVENT']).includes('VEVENT') ? 'personal' : 'tasks')
  if (kind === 'company' && actor.user.role !== 'admin') throw new DomainError('forbidden', 'only an administrator may create company calendars')
  return db.transaction().execute(async tx => {
    const slug = input.slug ?? await freeSlug(tx, actor.user, kind, input.name ?? 'calendar')
    if (await calendarNamed(tx, actor.user, kind, slug) !== undefined) throw new DomainError('conflict', `a calendar named "${slug}" already exists`, { field: 'slug', rule: 'resource-must-be-null' })
    const cal = await tx.insertInto('calendars').values({
      org_id: actor.user.org_id, owner_id: kind === 'company' ? null : actor.user.id, kind, slug,
      name: input.name ?? slug, description: input.description ?? '', color: input.color ?? null,
      sort_order: input.order ?? 0, timezone: input.timezone ?? null,
      components: input.components ?? (kind === 'tasks' ? ['VTODO'] : ['VEVENT']), dead_props: '{}'
    }).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: cal.org_id, entity: 'calendar', entity_id: cal.id, op: 'create', calendar_id: cal.id, origin: actor.origin, actor_id: actor.user.id }])
    return cal
  })
}

async function freeSlug (tx: Db, user: User, kind: CalendarKind, name: string): Promise<string> {
  const base = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'calendar'
  for (let i = 1; ; i++) {
    const slug = i === 1 ? base : `${base}-${i}`
    if (await calendarNamed(tx, user, kind, slug) === undefined) return slug
  }
}

/** The live calendar with this slug among the user's own (or, for company, the organisation's). */
async function calendarNamed (tx: Db, user: User, kind: CalendarKind, slug: string): Promise<{ id: number } | undefined> {
  return tx.selectFrom('calendars').select('id').where('org_id', '=', user.org_id)
    .where(eb => kind === 'company' ? eb('owner_id', 'is', null) : eb('owner_id', '=', user.id))
    .where('slug', '=', slug).where('deleted_at', 'is', null).executeTakeFirst()
}

/**
 * A new slug for one of the user's own calendars (a client's MOVE of the
 * collection, RFC 4918 §9.9): the calendar keeps its id, items, shares and
 * sync token. A calendar already named so is deleted first when `replace`
 * (Overwrite: T), as a DELETE of it would; otherwise nothing changes.
 */
export async function renameCalendar (db: Db, actor: Actor, id: number, slug: string, opts: { replace: boolean }): Promise<{ replaced: boolean }> {
  checkInput({ slug })
  return transact(db, async tx => {
    const cal = await requireCalendar(tx, actor.user, id, 'manage')
    if (cal.owner_id !== actor.user.id) throw new DomainError('forbidden', 'only your own calendars can be renamed here', { rule: 'need-privileges' })
    const taken = await calendarNamed(tx, actor.user, cal.kind, slug)
    if (taken !== undefined && taken.id !== id) {
      if (!opts.replace) throw new DomainError('precondition-failed', `a calendar named "${slug}" exists`)
      await deleteCalendar(tx, actor, taken.id)
    }
    await tx.updateTable('calendars').set({ slug }).where('id', '=', id).execute()
    await record(tx, [{ org_id: cal.org_id, entity: 'calendar', entity_id: id, op: 'update', calendar_id: id, origin: actor.origin, actor_id: actor.user.id, detail: { slug: { from: cal.slug, to: slug } } }])
    return { replaced: taken !== undefined && taken.id !== id }
  })
}

export async function updateCalendar (db: Db, actor: Actor, id: number, input: CalendarInput & { deadProps?: Record<string, string | null> }): Promise<Calendar> {
  checkInput(input)
  return db.transaction().execute(async tx => {
    const cal = await requireCalendar(tx, actor.user, id, 'manage')
    const dead = { ...(cal.dead_props as Record<string, string>) }
    for (const [k, v] of Object.entries(input.deadProps ?? {})) {
      if (v === null) delete dead[k]; else dead[k] = v
    }
    const updated = await tx.updateTable('calendars').set({
      name: input.name ?? cal.name,
      description: input.description ?? cal.description,
      color: input.color === undefined ? cal.color : input.color,
      sort_order: input.order ?? cal.sort_order,
      timezone: input.timezone === undefined ? cal.timezone : input.timezone,
      components: input.components ?? cal.components,
      dead_props: JSON.stringify(dead)
    }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: cal.org_id, entity: 'calendar', entity_id: id, op: 'update', calendar_id: id, origin: actor.origin, actor_id: actor.user.id }])
    return updated
  })
}

/** Deletes the calendar and every item whose home it is; participants' copies go with them. */
export async function deleteCalendar (db: Db, actor: Actor, id: number): Promise<void> {
  await transact(db, async tx => {
    const cal = await requireCalendar(tx, actor.user, id, 'manage')
    if (cal.is_default) throw new DomainError('forbidden', 'a user\'s default calendar cannot be deleted', { rule: 'default-calendar' })
    const ctx = { origin: actor.origin, actorId: actor.user.id }
    for (const a of await tx.selectFrom('appointments').select(['id', 'org_id']).where('calendar_id', '=', id).execute()) {
      await removeAllPlacements(tx, { kind: 'appointment', id: a.id, orgId: a.org_id }, ctx)
      await tx.deleteFrom('appointments').where('id', '=', a.id).execute()
      await record(tx, [{ org_id: a.org_id, entity: 'appointment', entity_id: a.id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
    }
    for (const t of await tx.selectFrom('tasks').select(['id', 'org_id']).where('calendar_id', '=', id).execute()) {
      await removeAllPlacements(tx, { kind: 'task', id: t.id, orgId: t.org_id }, ctx)
      await tx.deleteFrom('tasks').where('id', '=', t.id).execute()
      await record(tx, [{ org_id: t.org_id, entity: 'task', entity_id: t.id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
    }
    // copies of appointments homed elsewhere: this user leaves them
    await tx.deleteFrom('calendar_objects').where('calendar_id', '=', id).execute()
    await tx.updateTable('calendars').set({ deleted_at: new Date() }).where('id', '=', id).execute()
    await record(tx, [{ org_id: cal.org_id, entity: 'calendar', entity_id: id, op: 'delete', calendar_id: id, origin: actor.origin, actor_id: actor.user.id }])
  })
}

export async function listCalendars (db: Db, actor: User): Promise<VisibleCalendar[]> {
  return visibleCalendars(db, actor)
}

export async function getCalendar (db: Db, actor: User, id: number): Promise<VisibleCalendar> {
  return requireCalendar(db, actor, id, 'read')
}

export async function shareCalendar (db: Db, actor: Actor, calendarId: number, userId: number, access: Access | null): Promise<void> {
  if (access !== null && access !== 'read' && access !== 'write') throw invalid('access', 'must be read or write')
  await db.transaction().execute(async tx => {
    const cal = await requireCalendar(tx, actor.user, calendarId, 'manage')
    const grantee = await requireSameOrgUser(tx, actor.user, userId, 'userId')
    if (grantee.id === cal.owner_id) throw invalid('userId', 'the owner already has the calendar')
    const had = await tx.selectFrom('calendar_shares').select('access').where('calendar_id', '=', calendarId).where('user_id', '=', userId).executeTakeFirst()
    if (access === null) {
      if (had === undefined) throw notFound('share')
      await tx.deleteFrom('calendar_shares').where('calendar_id', '=', calendarId).where('user_id', '=', userId).execute()
    } else {
      await tx.insertInto('calendar_shares').values({ calendar_id: calendarId, user_id: userId, access })
        .onConflict(oc => oc.columns(['calendar_id', 'user_id']).doUpdateSet({ access })).execute()
    }
    await record(tx, [{
      org_id: cal.org_id, entity: 'share', entity_id: calendarId, op: access === null ? 'delete' : had === undefined ? 'create' : 'update',
      origin: actor.origin, actor_id: actor.user.id, detail: { userId, access }
    }])
  })
}

export async function sharesOf (db: Db, actor: User, calendarId: number) {
  await requireCalendar(db, actor, calendarId, 'read')
  return db.selectFrom('calendar_shares').select(['user_id', 'access', 'created_at']).where('calendar_id', '=', calendarId).orderBy('user_id').execute()
}
