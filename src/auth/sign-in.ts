import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { DomainError } from '../domain/errors.ts'
import { findUserByLogin } from '../domain/users.ts'
import { looksLikeAppPassword } from './app-passwords.ts'
import { burnVerify, verifyPassword } from './passwords.ts'

export type Limits = { perAccount: number; perAddress: number; windowSeconds: number }
export type SignedIn = { user: User; appPasswordId: number | null }
type FailureRow = { key: string; failures: number; window_start: Date }

/** The cached pair still holds: the user is enabled and the hash it matched is still the current one. */
const valid = (user: User, currentHash: string | null, hash: string) => !user.disabled && currentHash === hash

/**
 * Checks a login and password (the account password or one of the user's app
 * passwords) with failed attempts limited per account and per address.
 * CalDAV clients send Basic credentials with every request, so a verified
 * pair is remembered briefly instead of paying argon2id each time; the cache
 * key is a hash, never the password.
 */
export class SignIn {
  readonly #db: Db
  readonly #limits: Limits
  // `hash` is the stored hash the secret matched: a password changed elsewhere no longer matches it
  readonly #verified = new Map<string, { userId: number; appPasswordId: number | null; hash: string; until: number }>()
  readonly #touched = new Map<number, number>()
  static readonly CACHE_MS = 60_000
  static readonly TOUCH_MS = 60_000

  constructor (db: Db, limits: Limits) {
    this.#db = db
    this.#limits = limits
  }

  async verify (login: string, secret: string, address: string): Promise<SignedIn | null> {
    const key = createHash('sha256').update(`${login.toLowerCase()}\0${secret}`).digest('base64')
    const hit = this.#verified.get(key)
    let result: (SignedIn & { hash: string }) | null = null
    let hadFailures: boolean
    if (hit !== undefined && hit.until > Date.now()) {
      // one round trip re-reads what the cached pair depends on (the user, the app
      // password, the sign-in limits), so a revoke, a disabled user or a changed
      // password is refused at once, from whichever process made the change
      const now = await this.#current(hit.userId, hit.appPasswordId, login, address)
      hadFailures = this.#refuseIfLimited(now.failures)
      if (now.user !== null && valid(now.user, hit.appPasswordId === null ? now.user.password_hash : now.appPasswordHash, hit.hash)) {
        result = { user: now.user, appPasswordId: hit.appPasswordId, hash: hit.hash }
      } else {
        this.#verified.delete(key)
      }
    } else {
      hadFailures = this.#refuseIfLimited(await this.#failures(login, address))
    }
    if (result === null) {
      result = await this.#check(login, secret)
      if (result === null) {
        await this.#fail(login, address)
        return null
      }
      if (this.#verified.size > 10_000) this.#verified.clear()
      this.#verified.set(key, { userId: result.user.id, appPasswordId: result.appPasswordId, hash: result.hash, until: Date.now() + SignIn.CACHE_MS })
    }
    if (hadFailures) await this.#db.deleteFrom('login_failures').where('key', '=', `login:${login.toLowerCase()}`).execute()
    await this.#touch(result.appPasswordId, address)
    return { user: result.user, appPasswordId: result.appPasswordId }
  }

  forget (): void { this.#verified.clear() }

  async #check (login: string, secret: string): Promise<(SignedIn & { hash: string }) | null> {
    const user = await findUserByLogin(this.#db, login)
    if (user === undefined || user.disabled) {
      await burnVerify(secret)
      return null
    }
    if (looksLikeAppPassword(secret)) {
      const candidates = await this.#db.selectFrom('app_passwords').select(['id', 'secret_hash'])
        .where('user_id', '=', user.id).where('prefix', '=', secret.slice(0, 4)).where('revoked_at', 'is', null).execute()
      for (const c of candidates) {
        if (await verifyPassword(c.secret_hash, secret)) return { user, appPasswordId: c.id, hash: c.secret_hash }
      }
    }
    if (user.password_hash !== null && await verifyPassword(user.password_hash, secret)) return { user, appPasswordId: null, hash: user.password_hash }
    return null
  }

  /** The user, the app password's hash (null when revoked or gone) and the live failure rows, in one query. */
  async #current (userId: number, appPasswordId: number | null, login: string, address: string): Promise<{ user: User | null; appPasswordHash: string | null; failures: FailureRow[] }> {
    const since = this.#windowStart()
    const row = await this.#db.selectFrom('users').selectAll('users')
      .select(eb => [
        eb.selectFrom('app_passwords').select('secret_hash').where('id', '=', appPasswordId ?? 0).where('user_id', '=', userId).where('revoked_at', 'is', null).as('app_password_hash'),
        sql<FailureRow[] | null>`(SELECT json_agg(json_build_object('key', f.key, 'failures', f.failures, 'window_start', f.window_start)) FROM login_failures f WHERE f.key IN (${`login:${login.toLowerCase()}`}, ${`ip:${address}`}) AND f.window_start > ${since})`.as('failures')
      ])
      .where('users.id', '=', userId).executeTakeFirst()
    if (row === undefined) return { user: null, appPasswordHash: null, failures: await this.#failures(login, address) }
    const { app_password_hash: appPasswordHash, failures, ...user } = row
    return { user, appPasswordHash, failures: (failures ?? []).map(f => ({ ...f, window_start: new Date(f.window_start) })) }
  }

  async #touch (appPasswordId: number | null, address: string) {
    if (appPasswordId === null) return
    // at most once a minute per app password: this runs on every DAV request, so this
    // process remembers its last touch and the WHERE keeps other processes' touches apart
    const now = Date.now()
    if (now - (this.#touched.get(appPasswordId) ?? -Infinity) < SignIn.TOUCH_MS) return
    if (this.#touched.size > 10_000) this.#touched.clear()
    this.#touched.set(appPasswordId, now)
    await this.#db.updateTable('app_passwords').set({ last_used_at: new Date(now), last_used_ip: address })
      .where('id', '=', appPasswordId)
      .where(eb => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now - SignIn.TOUCH_MS))]))
      .execute()
  }

  #windowStart (): Date {
    return new Date(Date.now() - this.#limits.windowSeconds * 1000)
  }

  async #failures (login: string, address: string): Promise<FailureRow[]> {
    return this.#db.selectFrom('login_failures').selectAll()
      .where('key', 'in', [`login:${login.toLowerCase()}`, `ip:${address}`]).where('window_start', '>', this.#windowStart()).execute()
  }

  /** Refuses when a limit is reached; tells whether the account has failures to forget on success. */
  #refuseIfLimited (rows: FailureRow[]): boolean {
    for (const row of rows) {
      const limit = row.key.startsWith('ip:') ? this.#limits.perAddress : this.#limits.perAccount
      if (row.failures >= limit) {
        const retry = Math.max(1, Math.ceil((row.window_start.getTime() + this.#limits.windowSeconds * 1000 - Date.now()) / 1000))
        throw new DomainError('too-many-requests', `too many failed sign-ins ${row.key.startsWith('ip:') ? 'from your address' : 'for this account'}; try again in ${retry} s`, { retryAfterSeconds: retry, rule: 'login-rate-limited' })
      }
    }
    return rows.some(r => r.key.startsWith('login:'))
  }

  async #fail (login: string, address: string) {
    const now = new Date()
    const windowStart = new Date(now.getTime() - this.#limits.windowSeconds * 1000)
    for (const key of [`login:${login.toLowerCase()}`, `ip:${address}`]) {
      await this.#db.insertInto('login_failures').values({ key, window_start: now, failures: 1 })
        .onConflict(oc => oc.column('key').doUpdateSet(eb => ({
          // a window that has run out starts again from this failure
          failures: eb.case().when('login_failures.window_start', '<', windowStart).then(1).else(eb('login_failures.failures', '+', 1)).end(),
          window_start: eb.case().when('login_failures.window_start', '<', windowStart).then(now).else(eb.ref('login_failures.window_start')).end()
        }))).execute()
    }
  }
}
