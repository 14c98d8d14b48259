import type { User } from '../../db/schema.ts'
import { DomainError, invalid } from '../../domain/errors.ts'
import { saveConnection } from '../connections.ts'
import { AuthFailed, Transient } from '../provider.ts'
import { syncDb, type Connection } from '../tables.ts'
import { el, tv } from '../microsoft/ews-xml.ts'
import type { EwsClient } from './client.ts'
import { clientFor, ewsUrlFor, integrationOf, type ExchangeDeps, type UserLogin } from './provider.ts'

/**
 * Connecting a user's Exchange mailbox: with the login the user types (kept
 * sealed in the connection), or, when the organisation has a service
 * account, through impersonation without asking. The account is tried first
 * (GetFolder of the calendar), so a wrong password, an unreachable server, a
 * refused certificate or a missing impersonation right is a clear answer now
 * rather than a red connection later. Connecting again (a new password)
 * resumes the existing connection.
 */
export type ExchangeLoginInput = { account?: string; username?: string; password?: string; token?: string }

/** One cheap request that needs the login and the mailbox (GetFolder of the calendar); throws the client's errors. */
export async function openCalendar (client: EwsClient): Promise<void> {
  await client.one('GetFolder', el('m:GetFolder', {}, el('m:FolderShape', {}, tv('BaseShape', 'IdOnly')), el('m:FolderIds', {}, el('t:DistinguishedFolderId', { Id: 'calendar' }))))
}

/** openCalendar with its failures as the domain's refusals, for connecting. */
export async function tryMailbox (client: EwsClient): Promise<void> {
  try {
    await openCalendar(client)
  } catch (e) {
    if (e instanceof AuthFailed) throw new DomainError('forbidden', `Exchange refused: ${e.message}`, { rule: 'exchange-login' })
    if (e instanceof Transient) throw new DomainError('conflict', `Exchange could not be reached: ${e.message}`, { rule: 'exchange-unreachable' })
    throw new DomainError('conflict', (e as Error).message, { rule: 'exchange-failed' })
  }
}

export async function connectExchange (deps: ExchangeDeps, user: User, input: ExchangeLoginInput): Promise<{ connection: Connection; reconnected: boolean }> {
  let integration
  try {
    integration = await integrationOf(deps, user.id)
  } catch (e) {
    throw new DomainError('conflict', (e as Error).message, { rule: 'integration-disabled' })
  }
  const account = (input.account ?? user.email ?? '').trim().toLowerCase()
  if (!/^[^\s@]+@[^\s@]+$/.test(account)) throw invalid('account', 'must be the mailbox\'s e-mail address')
  let login: UserLogin | null = null
  if (input.token !== undefined && input.token !== '') login = { token: input.token }
  else if (input.password !== undefined && input.password !== '') login = { username: (input.username ?? '').trim() || account, password: input.password }
  else if (integration.mode !== 'service') throw invalid('password', 'is required: this organisation has each user connect with their own Exchange login')
  let client: EwsClient
  try {
    client = clientFor(deps, await ewsUrlFor(deps, integration, account, login), account, login)
  } catch (e) {
    // no EWS URL set: Autodiscover found none for the address
    if (e instanceof Transient) throw new DomainError('conflict', e.message, { rule: 'exchange-autodiscover', field: 'account' })
    throw new DomainError('conflict', (e as Error).message, { rule: 'exchange-failed' })
  }
  await tryMailbox(client)
  const existing = await syncDb(deps.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', user.id).where('provider', '=', 'exchange').where(eb => eb(eb.fn('lower', ['account']), '=', account)).executeTakeFirst()
  const sealed = login === null ? null : deps.secrets.seal(JSON.stringify(login))
  return saveConnection(deps.db, user, 'exchange', account, login === null ? 'delegation' : 'token' in login ? 'oauth' : 'password', sealed, existing)
}
