import { transact, type Db } from '../db/connect.ts'
import { takeStartTurn } from '../db/migrate.ts'
import type { Role, User } from '../db/schema.ts'
import { hashPassword, verifyPassword } from '../auth/passwords.ts'
import { destroySessionsOf } from '../web/sessions.ts'
import { requireAdmin } from './access.ts'
import type { Actor } from './actor.ts'
import { defaultCalendarOf } from './calendars.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { record, type Origin } from './journal.ts'
import { text, timeZone } from './values.ts'

export type UserInput = {
  login?: string
  name?: string
  email?: string | null
  role?: Role
  password?: string
  timezone?: string
  /** a web page language (en, pl, ro, ru, nl); null: the organisation's default */
  language?: string | null
  /** the user chose their time zone (the pages stop offering the browser's) */
  timezoneConfirmed?: boolean
  disabled?: boolean
  canChangePlannedDates?: boolean
  canRenameCases?: boolean
  /** asked when users change their own password: a stolen session or token alone cannot */
  currentPassword?: string
  /** with a new password: also revoke the user's app passwords and API tokens */
  revokeCredentials?: boolean
  /** working hours (HH:MM, in the user's zone) and days (ISO: 1 = Monday … 7 = Sunday): the grid shades the rest */
  workStart?: string
  workEnd?: string
  workDays?: number[]
}

/** Who changed a password from where: the web session that did it stays signed in. */
export type PasswordChangeContext = {
  keepSession?: string
  /** checks the current password given for one's own change; the HTTP layer counts and slows wrong ones (auth/sign-in.ts) */
  confirmCurrent?: (user: User, secret: string) => Promise<boolean>
}

const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/
const EMAIL = /^[^\s@]+@[^\s@]+$/

export function checkPassword (field: string, pw: unknown): string {
  const value = text(field, pw, { max: 1000 })
  if (value.length < 8) throw invalid(field, 'must be at least 8 characters')
  return value
}

function check (input: UserInput) {
  if (input.login !== undefined && !LOGIN.test(input.login)) throw invalid('login', 'must start with a letter or digit and use only letters, digits and . _ @ + -')
  if (input.name !== undefined) text('name', input.name, { max: 200, required: true })
  if (input.email !== undefined && input.email !== null && !EMAIL.test(input.email)) throw invalid('email', 'is not an e-mail address')
  if (input.role !== undefined && input.role !== 'admin' && input.role !== 'user') throw invalid('role', 'must be admin or user')
  if (input.timezone !== undefined) timeZone('timezone', input.timezone)
  if (input.language !== undefined && input.language !== null && !LANGUAGES.includes(input.language)) throw invalid('language', `must be one of ${LANGUAGES.join(', ')}`)
  if (input.workStart !== undefined) timeOfDay('workStart', input.workStart)
  if (input.workEnd !== undefined) timeOfDay('workEnd', input.workEnd)
  if (input.workDays !== undefined && (!Array.isArray(input.workDays) || input.workDays.length === 0 || !input.workDays.every(d => Number.isInteger(d) && d >= 1 && d <= 7))) {
    throw new DomainError('invalid', 'choose at least one working day, 1 (Monday) to 7 (Sunday)', { field: 'workDays', rule: 'work-days' })
  }
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/
function timeOfDay (field: string, value: unknown): string {
  if (typeof value !== 'string' || !TIME_OF_DAY.test(value)) throw invalid(field, 'must be a time of day like 08:00')
  return value
}

/** The working day ends after it starts (HH:MM strings compare in time order). */
function checkWorkHours (start: string, end: string): void {
  if (end <= start) throw new DomainError('invalid', 'the working day must end after it starts', { field: 'workEnd', rule: 'work-end-after-start' })
}

const storedDays = (days: number[]) => [...new Set(days)].sort((a, b) => a - b).join(',')

/** The languages the web pages speak (src/web/locale.ts). */
export const LANGUAGES: readonly string[] = ['en', 'pl', 'ro', 'ru', 'nl']

/**
 * Logins are unique across organisations: sign-in (Basic from DAV clients,
 * the web form, the CLI) names a user by login alone. So a clash cannot be
 * avoided, but its answer neither says the login exists nor where: an
 * organisation's admin learns no more than "choose another".
 */
const loginUnavailable = (login: string) => new DomainError('conflict', `the login "${login}" cannot be used; choose another`, { field: 'login' })

export async function createOrg (db: Db, name: string, origin: Origin): Promise<{ id: number }> {
  return transact(db, async tx => {
    const org = await tx.insertInto('orgs').values({ name: text('name', name, { max: 200, required: true }), settings: '{}' }).returning('id').executeTakeFirstOrThrow()
    const company = await tx.insertInto('calendars').values({
      org_id: org.id, owner_id: null, kind: 'company', slug: 'company', name: `${name} calendar`, components: ['VEVENT'], dead_props: '{}'
    }).returning('id').executeTakeFirstOrThrow()
    await record(tx, [
      { org_id: org.id, entity: 'org', entity_id: org.id, op: 'create', origin, actor_id: null },
      { org_id: org.id, entity: 'calendar', entity_id: company.id, op: 'create', calendar_id: company.id, origin, actor_id: null }
    ])
    return org
  })
}

/** Creates a user with their default calendar and task list. `actor` null = the CLI or first start. */
export async function createUser (db: Db, actor: Actor | null, orgId: number, input: UserInput): Promise<User> {
  if (actor !== null) { requireAdmin(actor.user); orgId = actor.user.org_id }
  check(input)
  if (input.login === undefined) throw invalid('login', 'is required')
  const hash = input.password === undefined ? null : await hashPassword(checkPassword('password', input.password))
  return transact(db, async tx => {
    const taken = await tx.selectFrom('users').select('id').where(eb => eb(eb.fn('lower', ['login']), '=', input.login!.toLowerCase())).executeTakeFirst()
    if (taken !== undefined) throw loginUnavailable(input.login!)
    const user = await tx.insertInto('users').values({
      org_id: orgId, login: input.login!, name: input.name ?? input.login!, email: input.email ?? null,
      role: input.role ?? 'user', password_hash: hash, timezone: input.timezone ?? 'UTC', language: input.language ?? null,
      can_change_planned_dates: input.canChangePlannedDates ?? true, can_rename_cases: input.canRenameCases ?? true
    }).returningAll().executeTakeFirstOrThrow()
    await defaultCalendarOf(tx, user.id, 'personal')
    await defaultCalendarOf(tx, user.id, 'tasks')
    await record(tx, [{ org_id: orgId, entity: 'user', entity_id: user.id, op: 'create', origin: actor?.origin ?? 'cli', actor_id: actor?.user.id ?? null }])
    return user
  })
}

/**
 * The administrator of a database without users, in the organisation orgOf
 * picks (or makes); null when there are users already. Under the start lock:
 * of processes starting together on an empty database, one creates it and the
 * others find it.
 */
export async function createFirstAdmin (db: Db, password: string, orgOf: (tx: Db) => Promise<number>): Promise<User | null> {
  return db.transaction().execute(async tx => {
    await takeStartTurn(tx)
    if (await tx.selectFrom('users').select('id').limit(1).executeTakeFirst() !== undefined) return null
    return createUser(tx, null, await orgOf(tx), { login: 'admin', name: 'Administrator', role: 'admin', password })
  })
}

export async function updateUser (db: Db, actor: Actor | null, id: number, input: UserInput, ctx: PasswordChangeContext = {}): Promise<User> {
  check(input)
  const self = actor !== null && actor.user.id === id
  if (actor !== null && !self) requireAdmin(actor.user)
  if (self && actor!.user.role !== 'admin' && (input.role !== undefined || input.disabled !== undefined || input.canChangePlannedDates !== undefined || input.canRenameCases !== undefined || input.login !== undefined)) {
    throw new DomainError('forbidden', 'only an administrator may change roles, permissions or logins')
  }
  if (input.revokeCredentials !== undefined && input.password === undefined) throw invalid('revokeCredentials', 'goes with a new password')
  const hash = input.password === undefined ? undefined : await hashPassword(checkPassword('password', input.password))
  // before the transaction: a counted try writes its failure even when the change is refused
  if (self && hash !== undefined) await requireCurrentPassword(actor!.user, input.currentPassword, ctx.confirmCurrent)
  return db.transaction().execute(async tx => {
    const before = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    if (before === undefined || (actor !== null && before.org_id !== actor.user.org_id)) throw notFound('user')
    if (input.login !== undefined && input.login.toLowerCase() !== before.login.toLowerCase() && await findUserByLogin(tx, input.login) !== undefined) throw loginUnavailable(input.login)
    const workStart = input.workStart ?? before.work_start
    const workEnd = input.workEnd ?? before.work_end
    if (input.workStart !== undefined || input.workEnd !== undefined) checkWorkHours(workStart, workEnd)
    const user = await tx.updateTable('users').set({
      login: input.login ?? before.login, name: input.name ?? before.name,
      email: input.email === undefined ? before.email : input.email, role: input.role ?? before.role,
      password_hash: hash ?? before.password_hash, timezone: input.timezone ?? before.timezone,
      language: input.language === undefined ? before.language : input.language,
      timezone_confirmed: input.timezoneConfirmed ?? (input.timezone !== undefined && actor?.user.id === id ? true : before.timezone_confirmed),
      disabled: input.disabled ?? before.disabled,
      can_change_planned_dates: input.canChangePlannedDates ?? before.can_change_planned_dates,
      can_rename_cases: input.canRenameCases ?? before.can_rename_cases,
      work_start: workStart,
      work_end: workEnd,
      work_days: input.workDays === undefined ? before.work_days : storedDays(input.workDays)
    }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: user.org_id, entity: 'user', entity_id: id, op: 'update', origin: actor?.origin ?? 'cli', actor_id: actor?.user.id ?? null, detail: { password: hash !== undefined } }])
    if (hash !== undefined) await passwordChanged(tx, actor, user, { ...ctx, revokeCredentials: input.revokeCredentials === true })
    return user
  })
}

async function requireCurrentPassword (user: User, current: string | undefined, confirm = async (u: User, secret: string) => verifyPassword(u.password_hash!, secret)): Promise<void> {
  // an account without a password (made for API tokens only) has none to give
  if (user.password_hash === null) return
  if (current === undefined || current === '') throw new DomainError('forbidden', 'give your current password to change it', { field: 'currentPassword', rule: 'current-password' })
  if (!await confirm(user, current)) throw new DomainError('forbidden', 'the current password is wrong', { field: 'currentPassword', rule: 'current-password' })
}

/**
 * A new password, from wherever it was set (API, web, CLI): every web
 * session of the user ends but the one that set it, so a session taken
 * with the old password ends with it. An administrator resetting a
 * password after a theft can also revoke the user's app passwords and
 * API tokens.
 */
async function passwordChanged (tx: Db, actor: Actor | null, user: User, opts: PasswordChangeContext & { revokeCredentials: boolean }): Promise<void> {
  await destroySessionsOf(tx, user.id, { except: opts.keepSession })
  if (!opts.revokeCredentials) return
  const now = new Date()
  const appPasswords = await tx.updateTable('app_passwords').set({ revoked_at: now }).where('user_id', '=', user.id).where('revoked_at', 'is', null).returning('id').execute()
  const tokens = await tx.updateTable('api_tokens').set({ revoked_at: now }).where('user_id', '=', user.id).where('revoked_at', 'is', null).returning('id').execute()
  const by = { origin: actor?.origin ?? 'cli' as const, actor_id: actor?.user.id ?? null, org_id: user.org_id, op: 'delete' as const }
  await record(tx, [
    ...appPasswords.map(r => ({ ...by, entity: 'app_password', entity_id: r.id })),
    ...tokens.map(r => ({ ...by, entity: 'api_token', entity_id: r.id }))
  ])
}

export async function findUserByLogin (db: Db, login: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(eb => eb(eb.fn('lower', ['login']), '=', login.toLowerCase())).executeTakeFirst()
}

export async function listUsers (db: Db, actor: User | null) {
  let q = db.selectFrom('users').selectAll().orderBy('id')
  if (actor !== null) q = q.where('org_id', '=', actor.org_id)
  return q.execute()
}

export async function getUser (db: Db, actor: User, id: number): Promise<User> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', id).where('org_id', '=', actor.org_id).executeTakeFirst()
  if (user === undefined) throw notFound('user')
  return user
}
