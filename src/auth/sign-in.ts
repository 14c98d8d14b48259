import { createHash } from 'node:crypto'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { DomainError } from '../domain/errors.ts'
import { findUserByLogin } from '../domain/users.ts'
import { looksLikeAppPassword } from './app-passwords.ts'
import { burnVerify, verifyPassword } from './passwords.ts'

export type Limits = { perAccount: number; perAddress: number; windowSeconds: number }
export type SignedIn = { user: User; appPasswordId: number | null }

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
  readonly #verified = new Map<string, { userId: number; appPasswordId: number | null; until: number }>()
  static readonly CACHE_MS = 60_000

  constructor (db: Db, limits: Limits) {
    this.#db = db
    this.#limits = limits
  }

  async verify (login: string, secret: string, address: string): Promise<SignedIn | null> {
    await this.#refuseIfLimited(login, address)
    const key = createHash('sha256').update(`${login.toLowerCase()}\0${secret}`).digest('base64')
    const hit = this.#verified.get(key)
    if (hit !== undefined && hit.until > Date.now()) {
      const user = await this.#stillValid(hit.userId, hit.appPasswordId)
      if (user !== null) {
        await this.#touch(hit.appPasswordId, address)
        return { user, appPasswordId: hit.appPasswordId }
      }
      this.#verified.delete(key)
    }
    const result = await this.#check(login, secret)
    if (result === null) {
      await this.#fail(login, address)
      return null
    }
    await this.#db.deleteFrom('login_failures').where('key', '=', `login:${login.toLowerCase()}`).execute()
    if (this.#verified.size > 10_000) this.#verified.clear()
    this.#verified.set(key, { userId: result.user.id, appPasswordId: result.appPasswordId, until: Date.now() + SignIn.CACHE_MS })
    await this.#touch(result.appPasswordId, address)
    return result
  }

  forget (): void { this.#verified.clear() }

  async #check (login: string, secret: string): Promise<SignedIn | null> {
    const user = await findUserByLogin(this.#db, login)
    if (user === undefined || user.disabled) {
      await burnVerify(secret)
      return null
    }
    if (looksLikeAppPassword(secret)) {
      const candidates = await this.#db.selectFrom('app_passwords').select(['id', 'secret_hash'])
        .where('user_id', '=', user.id).where('prefix', '=', secret.slice(0, 4)).where('revoked_at', 'is', null).execute()
      for (const c of candidates) {
        if (await verifyPassword(c.secret_hash, secret)) return { user, appPasswordId: c.id }
      }
    }
    if (user.password_hash !== null && await verifyPassword(user.password_hash, secret)) return { user, appPasswordId: null }
    return null
  }

  async #stillValid (userId: number, appPasswordId: number | null): Promise<User | null> {
    const user = await this.#db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
    if (user === undefined || user.disabled) return null
    if (appPasswordId !== null) {
      const ap = await this.#db.selectFrom('app_passwords').select('revoked_at').where('id', '=', appPasswordId).executeTakeFirst()
      if (ap === undefined || ap.revoked_at !== null) return null
    }
    return user
  }

  async #touch (appPasswordId: number | null, address: string) {
    if (appPasswordId === null) return
    // at most once a minute per app password: this runs on every DAV request
    await this.#db.updateTable('app_passwords').set({ last_used_at: new Date(), last_used_ip: address })
      .where('id', '=', appPasswordId)
      .where(eb => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]))
      .execute()
  }

  async #refuseIfLimited (login: string, address: string) {
    const since = new Date(Date.now() - this.#limits.windowSeconds * 1000)
    const rows = await this.#db.selectFrom('login_failures').selectAll()
      .where('key', 'in', [`login:${login.toLowerCase()}`, `ip:${address}`]).where('window_start', '>', since).execute()
    for (const row of rows) {
      const limit = row.key.startsWith('ip:') ? this.#limits.perAddress : this.#limits.perAccount
      if (row.failures >= limit) {
        const retry = Math.max(1, Math.ceil((row.window_start.getTime() + this.#limits.windowSeconds * 1000 - Date.now()) / 1000))
        throw new DomainError('too-many-requests', `too many failed sign-ins ${row.key.startsWith('ip:') ? 'from your address' : 'for this account'}; try again in ${retry} s`, { retryAfterSeconds: retry, rule: 'login-rate-limited' })
      }
    }
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
