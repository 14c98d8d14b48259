import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { DomainError } from '../domain/errors.ts'
import { findUserByLogin } from '../domain/users.ts'
import { looksLikeAppPassword } from './app-passwords.ts'
import { burnVerify, verifyPassword } from './passwords.ts'
import { runShaped, type Part } from '../db/shaped.ts'

export type Limits = { perAccount: number; perAddress: number; windowSeconds: number; maxDelaySeconds: number }
export type SignedIn = { user: User; appPasswordId: number | null }
/**
 * A read the caller wants sent inside the statement that re-checks a
 * remembered sign-in, for the user that pair was remembered for (undefined:
 * none for them): a request's first read then costs no round trip of its
 * own, and is read in the same snapshot as the check and the access
 * version. What it read comes back only with a sign-in that holds.
 */
export type Along<T> = (userId: number) => Part<RawBuilder<T>> | undefined
/** Who is signing in: the client's address, and where their refusals are logged. */
export type Caller = { ip: string; log: Pick<FastifyBaseLogger, 'info' | 'warn'> }
type FailureRow = { key: string; failures: number; window_start: Date; last_failure_at: Date }
type Verified = SignedIn & { hash: string }

/** What a re-check read along, when it carried a read. */
const alongOf = <T>(asked: Part<RawBuilder<T>> | undefined, value: T | undefined): { along?: T } => asked === undefined ? {} : { along: value as T }

/** The cached pair still holds: the user is enabled and the hash it matched is still the current one. */
const valid = (user: User, currentHash: string | null, hash: string) => !user.disabled && currentHash === hash

/**
 * The address as a limit counts it: an IPv6 client holds a whole /64 (its
 * 2^64 addresses would otherwise be as many fresh counts), an IPv4-mapped
 * IPv6 address is the IPv4 address.
 */
export function addressBucket (ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) return mapped[1]!
  if (!isIPv6(ip)) return ip
  const [head = '', tail = ''] = ip.toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return `${groups.slice(0, 4).map(g => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/** Seconds a key makes the next password attempt wait after its latest failure: none for the first `free` failures, then 1 s doubling, at most `max`. */
export function delayAfter (failures: number, free: number, max: number): number {
  return failures < free ? 0 : Math.min(2 ** Math.min(failures - free, 30), max)
}

/**
 * Checks a login and password (the account password or one of the user's app
 * passwords).
 *
 * Guessing is slowed without letting anyone lock the owner out:
 * - an app password (158 random bits, not guessable) is checked first and,
 *   when right, always accepted: nobody else's failures stop a device;
 * - an account password is checked only when neither its account from this
 *   address nor this address as a whole must wait. Past the free failures
 *   each further one makes the next try wait 1 s, doubling up to a bound
 *   (KALENDS_LOGIN_MAX_DELAY): an owner elsewhere is never slowed by
 *   another's guesses, and one behind the same proxy waits seconds, not the
 *   window. A try refused for its wait is answered before the password is
 *   looked at, so it tells a guesser nothing, and it does not count.
 *
 * CalDAV clients send Basic credentials with every request, so a verified
 * pair is remembered briefly instead of paying argon2id each time; the cache
 * key is a hash, never the password.
 */
/** The failure counters a try counts against: the account from this address, and the address. */
const failureKeys = (login: string, caller: Caller) =>
  ({ account: `login:${login.toLowerCase()}|ip:${addressBucket(caller.ip)}`, address: `ip:${addressBucket(caller.ip)}` })

export class SignIn {
  readonly #db: Db
  readonly #limits: Limits
  // `hash` is the stored hash the secret matched: a password changed elsewhere no longer matches it
  readonly #verified = new Map<string, { userId: number; appPasswordId: number | null; hash: string; until: number }>()
  readonly #touched = new Map<number, number>()
  readonly #versions = new WeakMap<User, number>()
  /** An account password's pair: remembered for a minute from its argon2id check. */
  static readonly CACHE_MS = 60_000
  /**
   * An app password's pair: remembered while its device keeps using it, up
   * to this long between two requests. It is 158 random bits, so a hash of it
   * in memory helps no guesser, and every request re-checks it against the
   * database anyway: what the time saves is argon2id and a cold start at
   * each poll of a client that syncs every few minutes or hours.
   */
  static readonly APP_CACHE_MS = 6 * 3_600_000
  static readonly TOUCH_MS = 60_000

  constructor (db: Db, limits: Limits) {
    this.#db = db
    this.#limits = limits
  }

  async verify<T = never> (login: string, secret: string, caller: Caller, along?: Along<T>): Promise<(SignedIn & { along?: T }) | null> {
    const cacheKey = createHash('sha256').update(`${login.toLowerCase()}\0${secret}`).digest('base64')
    const keys = failureKeys(login, caller)
    let hit = this.#verified.get(cacheKey)
    if (hit !== undefined && hit.until <= Date.now()) {
      // gone, not just ignored: #accepted remembers the pair again only when it is not there
      this.#verified.delete(cacheKey)
      hit = undefined
    }
    let result: Verified | null = null

    const extra = hit === undefined ? undefined : along?.(hit.userId)
    if (hit !== undefined && hit.appPasswordId !== null) {
      // one round trip re-reads what the cached pair depends on, so a revoke, a disabled
      // user or a changed password is refused at once, from whichever process made the change
      const now = await this.#current(hit.userId, hit.appPasswordId, [], extra)
      if (now.user !== null && valid(now.user, now.appPasswordHash, hit.hash)) {
        this.#versions.set(now.user, now.accessVersion)
        return { ...await this.#accepted({ user: now.user, appPasswordId: hit.appPasswordId, hash: hit.hash }, cacheKey, caller), ...alongOf(extra, now.along) }
      }
      this.#verified.delete(cacheKey)
      hit = undefined
    }
    const user = hit === undefined ? await findUserByLogin(this.#db, login) : undefined
    if (user !== undefined && !user.disabled && looksLikeAppPassword(secret)) {
      const app = await this.#appPassword(user, secret)
      if (app !== null) return this.#accepted({ user, appPasswordId: app.id, hash: app.hash }, cacheKey, caller, along)
    }

    // the account password: guessable, so it waits its turn before it is looked at
    let failures: FailureRow[]
    let read: { along?: T } = {}
    if (hit !== undefined) {
      const now = await this.#current(hit.userId, null, [keys.account, keys.address], extra)
      failures = now.failures
      await this.#takeTurn(failures, login, caller)
      if (now.user !== null && valid(now.user, now.user.password_hash, hit.hash)) {
        result = { user: now.user, appPasswordId: null, hash: hit.hash }
        read = alongOf(extra, now.along)
        this.#versions.set(now.user, now.accessVersion)
      } else this.#verified.delete(cacheKey)
    } else {
      failures = await this.#failures([keys.account, keys.address])
      await this.#takeTurn(failures, login, caller)
    }
    // after a cache hit that no longer holds, the user has not been read yet
    result ??= await this.#password(hit === undefined ? user : await findUserByLogin(this.#db, login), secret)
    if (result === null) {
      await this.#fail([keys.account, keys.address])
      caller.log.info({ login: login.slice(0, 100), address: caller.ip }, 'sign-in refused: wrong user name or password')
      return null
    }
    if (failures.some(r => r.key === keys.account)) await this.#db.deleteFrom('login_failures').where('key', '=', keys.account).execute()
    return { ...await this.#accepted(result, cacheKey, caller, along), ...read }
  }

  forget (): void { this.#verified.clear() }

  /**
   * The organisation's access version (migration 0015) read by the same
   * statement that re-checked this user's cached sign-in, so in the same
   * snapshot as the user row: what was decided for the user under this
   * version (their visible calendars) still holds; after a first sign-in,
   * read right after it.
   */
  accessVersion (user: User): number | undefined { return this.#versions.get(user) }

  /**
   * A signed-in user's password asked for again (to change it): the same
   * turns and counts as a sign-in of that account from this address, so a
   * stolen session or API token buys no faster guessing of the password.
   */
  async confirm (user: User, secret: string, caller: Caller): Promise<boolean> {
    const keys = failureKeys(user.login, caller)
    await this.#takeTurn(await this.#failures([keys.account, keys.address]), user.login, caller)
    if (user.password_hash !== null && await verifyPassword(user.password_hash, secret)) return true
    await this.#fail([keys.account, keys.address])
    caller.log.info({ login: user.login.slice(0, 100), address: caller.ip }, 'password change refused: wrong current password')
    return false
  }

  async #accepted<T> (result: Verified, cacheKey: string, caller: Caller, along?: Along<T>): Promise<SignedIn & { along?: T }> {
    const remembered = this.#verified.get(cacheKey)
    if (remembered === undefined) {
      if (this.#verified.size > 10_000) this.#verified.clear()
      this.#verified.set(cacheKey, { userId: result.user.id, appPasswordId: result.appPasswordId, hash: result.hash, until: Date.now() + (result.appPasswordId === null ? SignIn.CACHE_MS : SignIn.APP_CACHE_MS) })
    } else if (result.appPasswordId !== null) remembered.until = Date.now() + SignIn.APP_CACHE_MS
    // a sign-in checked with argon2id read no access version: read it now, with the caller's
    // read, so what was decided for this user under that version (their calendars, the
    // answers kept under them) is used again from this very request on
    let read: { along?: T } = {}
    if (!this.#versions.has(result.user)) {
      const extra = along?.(result.user.id)
      const now = await this.#accessVersionOf(result.user.org_id, extra)
      this.#versions.set(result.user, now.version)
      read = alongOf(extra, now.along)
    }
    await this.#touch(result.appPasswordId, caller.ip)
    return { user: result.user, appPasswordId: result.appPasswordId, ...read }
  }

  async #appPassword (user: User, secret: string): Promise<{ id: number; hash: string } | null> {
    const candidates = await this.#db.selectFrom('app_passwords').select(['id', 'secret_hash'])
      .where('user_id', '=', user.id).where('prefix', '=', secret.slice(0, 4)).where('revoked_at', 'is', null).execute()
    for (const c of candidates) {
      if (await verifyPassword(c.secret_hash, secret)) return { id: c.id, hash: c.secret_hash }
    }
    return null
  }

  async #password (user: User | undefined, secret: string): Promise<Verified | null> {
    if (user === undefined || user.disabled || user.password_hash === null) {
      await burnVerify(secret)
      return null
    }
    return await verifyPassword(user.password_hash, secret) ? { user, appPasswordId: null, hash: user.password_hash } : null
  }

  /** The user, the app password's hash (null when revoked or gone), the live failure rows of `keys` and the caller's `along`, in one query. */
  async #current<T> (userId: number, appPasswordId: number | null, keys: string[], along: Part<RawBuilder<T>> | undefined): Promise<{ user: User | null; appPasswordHash: string | null; failures: FailureRow[]; accessVersion: number; along: T | undefined }> {
    // built once per shape (src/db/shaped.ts): this statement goes with every request
    // the failure rows' window only when there are keys to read them by (an app password's re-check has none)
    const failureArgs = keys.length === 0 ? [] : [this.#windowStart(), ...keys]
    const [row] = await runShaped(this.#db, `sign-in:current:${keys.length}:${along?.shape ?? ''}`, [userId, appPasswordId ?? 0, ...failureArgs, ...(along?.args ?? [])],
      (user: number, app: number, ...rest: unknown[]) => this.#db.selectFrom('users').selectAll('users')
        .select(eb => [
          (along === undefined ? sql<T | undefined>`NULL` : along.build(...rest.slice(failureArgs.length))).as('along'),
          sql<number>`coalesce((SELECT v.version FROM access_versions v WHERE v.org_id = users.org_id), 0)`.as('access_version'),
          eb.selectFrom('app_passwords').select('secret_hash').where('id', '=', app).where('user_id', '=', user).where('revoked_at', 'is', null).as('app_password_hash'),
          keys.length === 0
            ? sql<null>`NULL`.as('failures')
            : sql<FailureRow[] | null>`(SELECT json_agg(json_build_object('key', f.key, 'failures', f.failures, 'window_start', f.window_start, 'last_failure_at', f.last_failure_at)) FROM login_failures f WHERE f.key IN (${sql.join(rest.slice(1, failureArgs.length))}) AND f.window_start > ${rest[0]})`.as('failures')
        ])
        .where('users.id', '=', user))
    if (row === undefined) return { user: null, appPasswordHash: null, failures: keys.length === 0 ? [] : await this.#failures(keys), accessVersion: 0, along: undefined }
    const { app_password_hash: appPasswordHash, failures, access_version: accessVersion, along: alongValue, ...user } = row
    return { user, appPasswordHash, accessVersion: Number(accessVersion), along: alongValue as T | undefined, failures: (failures ?? []).map(f => ({ ...f, window_start: new Date(f.window_start), last_failure_at: new Date(f.last_failure_at) })) }
  }

  async #accessVersionOf<T> (orgId: number, along: Part<RawBuilder<T>> | undefined): Promise<{ version: number; along: T | undefined }> {
    const { rows } = await sql<{ version: number; along: T | undefined }>`SELECT coalesce((SELECT v.version FROM access_versions v WHERE v.org_id = ${orgId}), 0) AS version, ${along === undefined ? sql`NULL` : along.build(...along.args)} AS along`.execute(this.#db)
    return { version: Number(rows[0]?.version ?? 0), along: rows[0]?.along }
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

  async #failures (keys: string[]): Promise<FailureRow[]> {
    return this.#db.selectFrom('login_failures').selectAll().where('key', 'in', keys).where('window_start', '>', this.#windowStart()).execute()
  }

  /**
   * Refuses (429 with Retry-After) while the account from this address, or
   * the address, must wait after its latest failure; else takes the turn.
   * Tries sent at once (to this process or another) race for one turn: the
   * conditional UPDATE lets exactly one through, so a burst buys no guesses.
   */
  async #takeTurn (rows: FailureRow[], login: string, caller: Caller): Promise<void> {
    const now = Date.now()
    for (const row of rows) {
      const perAddress = row.key.startsWith('ip:')
      const delay = delayAfter(row.failures, perAddress ? this.#limits.perAddress : this.#limits.perAccount, this.#limits.maxDelaySeconds)
      if (delay === 0) continue
      const readyAt = row.last_failure_at.getTime() + delay * 1000
      if (readyAt <= now) {
        const taken = await this.#db.updateTable('login_failures').set({ last_failure_at: new Date(now) })
          .where('key', '=', row.key).where('failures', '=', row.failures).where('last_failure_at', '<=', new Date(now - delay * 1000))
          .executeTakeFirst()
        if (Number(taken.numUpdatedRows) === 1) continue
      }
      const retry = readyAt > now ? Math.min(Math.ceil((readyAt - now) / 1000), this.#limits.maxDelaySeconds) : delay
      caller.log.warn({ login: login.slice(0, 100), address: caller.ip, failures: row.failures, retryAfterSeconds: retry }, 'sign-in refused: too many failures')
      throw new DomainError('too-many-requests', `too many failed sign-ins ${perAddress ? 'from your address' : 'for this account from your address'}; try again in ${retry} s`, { retryAfterSeconds: retry, rule: 'login-rate-limited' })
    }
  }

  async #fail (keys: string[]) {
    const now = new Date()
    const windowStart = this.#windowStart()
    for (const key of keys) {
      await this.#db.insertInto('login_failures').values({ key, window_start: now, failures: 1, last_failure_at: now })
        .onConflict(oc => oc.column('key').doUpdateSet(eb => ({
          // a window that has run out starts again from this failure
          failures: eb.case().when('login_failures.window_start', '<', windowStart).then(1).else(eb('login_failures.failures', '+', 1)).end(),
          window_start: eb.case().when('login_failures.window_start', '<', windowStart).then(now).else(eb.ref('login_failures.window_start')).end(),
          last_failure_at: now
        }))).execute()
    }
  }
}
