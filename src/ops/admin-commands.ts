import type { Kalends } from '../app.ts'
import type { Db } from '../db/connect.ts'
import type { Role } from '../db/schema.ts'
import { DomainError, notFound } from '../domain/errors.ts'
import { createOrg, createUser, findUserByLogin, listUsers, updateUser } from '../domain/users.ts'
import { runFeedCommand, type FeedCommand } from '../feeds/admin.ts'

/** The admin commands the CLI runs, directly or through a running server's socket. */
export type AdminCommand =
  | { cmd: 'user-add'; login: string; password?: string; admin?: boolean; name?: string; email?: string; org?: string }
  | { cmd: 'user-passwd'; login: string; password: string }
  | { cmd: 'user-list' }
  | { cmd: 'org-list' }
  | { cmd: 'org-add'; name: string }
  | FeedCommand

export type UserSummary = { id: number; login: string; name: string; email: string | null; role: Role; org: number; disabled: boolean }

export async function runAdminCommand (k: Kalends, c: AdminCommand): Promise<unknown> {
  const db = k.db
  switch (c.cmd) {
    case 'user-add': {
      const orgId = await orgFor(db, c.org)
      const u = await createUser(db, null, orgId, { login: c.login, password: c.password, role: c.admin === true ? 'admin' : 'user', name: c.name, email: c.email ?? null })
      return summary(u)
    }
    case 'user-passwd': {
      const u = await findUserByLogin(db, c.login)
      if (u === undefined) throw notFound(`user "${c.login}"`)
      await updateUser(db, null, u.id, { password: c.password })
      k.signIn.forget()
      return summary(u)
    }
    case 'user-list':
      return (await listUsers(db, null)).map(summary)
    case 'org-list':
      return db.selectFrom('orgs').select(['id', 'name', 'created_at']).orderBy('id').execute()
    case 'org-add':
      return createOrg(db, c.name, 'cli')
    case 'feed-list': case 'feed-create': case 'feed-rotate': case 'feed-revoke': case 'feed-calendars': case 'feed-calendar':
      return runFeedCommand(k, c)
    default:
      throw new DomainError('invalid', `unknown command ${(c as { cmd: string }).cmd}`)
  }
}

const summary = (u: { id: number; login: string; name: string; email: string | null; role: Role; org_id: number; disabled: boolean }): UserSummary =>
  ({ id: u.id, login: u.login, name: u.name, email: u.email, role: u.role, org: u.org_id, disabled: u.disabled })

/** The named organisation, or the only one; the first is created on demand. */
export async function orgFor (db: Db, name: string | undefined): Promise<number> {
  const orgs = await db.selectFrom('orgs').select(['id', 'name']).orderBy('id').execute()
  if (name !== undefined) {
    const found = orgs.find(o => o.name === name || String(o.id) === name)
    if (found === undefined) throw new DomainError('invalid', `no organisation "${name}"; create it with \`kalends org add "${name}"\``, { field: 'org' })
    return found.id
  }
  if (orgs.length === 0) return (await createOrg(db, process.env.KALENDS_ORG_NAME || 'My company', 'cli')).id
  if (orgs.length > 1) throw new DomainError('invalid', 'there are several organisations; name one with --org', { field: 'org' })
  return orgs[0]!.id
}
