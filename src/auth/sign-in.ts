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
  // `hash` is the stored hash the secret matched: a password changed elsewhere no longer matches it
  readonly #verified = new Map<string, { userId: number; appPasswordId: number | null; hash: string; until: number }>()
  static readonly CACHE_MS = 60_000

  constructor (db: Db, limits: Limits) {
    this.#db = db
    this.#limits = limits
  }

  async verify (login: string, secret: string, address: string): Promise<SignedIn | null> {
    const hadFailures = await this.#refuseIfLimited(login, address)
    const key = createHash('sha256').update(`${login.toLowerCase()}\0${secret}`).digest('base64')
    const hit = this.#verified.get(key)
    let result: (SignedIn & { hash: string }) | null = null
    if (hit !== undefined && hit.until > Date.now()) {
      const user = await this.#stillValid(hit.userId, hit.appPasswordId, hit.hash)
      if (user !== null) result = { user, appPasswordId: hit.appPasswordId, hash: hit.hash }
      else this.#verified.delete(key)
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

  async #stillValid (userId: number, appPasswordId: number | null, hash: string): Promise<User | null> {
    const user = await this.#db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
    if (user === undefined || user.disabled) return null
    if (appPasswordId === null) return user.password_hash === hash ? user : null
    const ap = await this.#db.selectFrom('app_passwords').select(['revoked_at', 'secret_hash']).where('id', '=', appPasswordId).executeTakeFirst()
    return ap !== undefined && ap.revoked_at === null && ap.secret_hash === hash ? user : null
  }

  async #touch (appPasswordId: number | null, address: string) {
    if (appPasswordId === null) return
    // at most once a minute per app password: this runs on every DAV request
    await this.#db.updateTable('app_passwords').set({ last_used_at: new Date(), last_used_ip: address })
      .where('id', '=', appPasswordId)
      .where(eb => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]))
      .execute()
  }

  /** Refuses when a limit is reached; tells whether the account has failures to forget on success. */
  async #refuseIfLimited (login: string, address: string): Promise<boolean> {
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
