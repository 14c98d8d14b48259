import { invalid } from '../../domain/errors.ts'
import { AuthFailed, Transient } from '../provider.ts'
import { AUTODISCOVER_CANDIDATES, discoverEwsUrl, type Discovery } from './autodiscover.ts'
import { EwsMailboxRefused, EwsTlsRefused, type EwsAuth } from './client.ts'
import { openCalendar } from './connect.ts'
import type { ExchangeIntegration } from './integration.ts'
import { clientFor, ewsUrlFor, type ExchangeDeps, type UserLogin } from './provider.ts'
import { transportFor } from './transport.ts'

/**
 * The administrator's checks of an Exchange set-up before anyone syncs:
 * "Test connection" signs in and opens a mailbox's calendar (GetFolder),
 * as the service account impersonating that mailbox or with a login the
 * admin types for the test (never stored), and says which of the usual
 * failures it met; Autodiscover finds the EWS URL from an e-mail address.
 */
export const TEST_RESULTS = ['ok', 'wrong-password', 'unreachable', 'tls', 'impersonation', 'no-mailbox', 'failed'] as const
export type TestResult = typeof TEST_RESULTS[number]
/** discovered: the EWS URL was found by Autodiscover for the mailbox (none was set) */
export type TestAnswer = { result: TestResult; message: string; serverVersion: string | null; ewsUrl: string; mailbox: string; discovered: boolean }

/** What the admin gives for a test: the mailbox to open and, without a service account, a login to open it with. */
export type TestInput = { mailbox?: string; username?: string; password?: string; token?: string }

const EMAIL = /^[^\s@]+@[^\s@]+$/

function loginOf (integration: ExchangeIntegration, input: TestInput, mailbox: string): UserLogin | null {
  if (integration.mode === 'service') return null
  if (integration.auth === 'bearer') {
    if ((input.token ?? '') === '') throw invalid('testToken', 'give an OAuth access token to test with')
    return { token: input.token! }
  }
  if ((input.password ?? '') === '') throw invalid('testPassword', 'give an Exchange login and password to test with: each user connects with their own')
  return { username: (input.username ?? '').trim() || mailbox, password: input.password! }
}

function classify (e: unknown): { result: TestResult; message: string } {
  const message = (e as Error).message
  if (e instanceof EwsMailboxRefused) return { result: e.code === 'ErrorNonExistentMailbox' ? 'no-mailbox' : 'impersonation', message }
  if (e instanceof AuthFailed) return { result: 'wrong-password', message }
  if (e instanceof EwsTlsRefused) return { result: 'tls', message }
  if (e instanceof Transient) return { result: 'unreachable', message }
  return { result: 'failed', message }
}

export async function testExchange (deps: ExchangeDeps, integration: ExchangeIntegration, input: TestInput, fallbackMailbox: string | null): Promise<TestAnswer> {
  const mailbox = (input.mailbox ?? '').trim().toLowerCase() || (fallbackMailbox ?? '').toLowerCase()
  if (!EMAIL.test(mailbox)) throw invalid('testMailbox', 'give the e-mail address of a mailbox to open')
  const login = loginOf(integration, input, mailbox)
  let base = { ewsUrl: integration.ewsUrl, mailbox }
  let found: ExchangeIntegration
  try {
    // no EWS URL typed: the test finds the mailbox's as a connection would (Autodiscover, SOAP then POX)
    found = await ewsUrlFor(deps, integration, mailbox, login)
  } catch (e) {
    return { ...base, result: 'failed', message: (e as Error).message, serverVersion: null, discovered: false }
  }
  base = { ewsUrl: found.ewsUrl, mailbox }
  const discovered = found.ewsUrl !== integration.ewsUrl
  try {
    const client = clientFor(deps, found, mailbox, login)
    await openCalendar(client)
    return { ...base, result: 'ok', message: `Exchange ${client.serverVersion ?? ''} opened the calendar of ${mailbox}`.replace('  ', ' '), serverVersion: client.serverVersion, discovered }
  } catch (e) {
    return { ...base, ...classify(e), serverVersion: null, discovered }
  }
}

/** Autodiscover for `email`, signed in as the service account or with the login the admin typed. */
export async function discoverForAdmin (deps: ExchangeDeps, integration: Pick<ExchangeIntegration, 'auth' | 'serviceAccount'>, email: string, input: TestInput): Promise<Discovery> {
  const address = email.trim().toLowerCase()
  if (!EMAIL.test(address)) throw invalid('autodiscoverEmail', 'give an e-mail address of the organisation, such as someone@example.com')
  let auth: EwsAuth
  if ((input.password ?? '') !== '') auth = { kind: integration.auth === 'ntlm' ? 'ntlm' : 'basic', username: (input.username ?? '').trim() || address, password: input.password! }
  else if (integration.serviceAccount !== null && integration.auth !== 'bearer') auth = { kind: integration.auth, ...integration.serviceAccount }
  else if ((input.token ?? '') !== '') auth = { kind: 'bearer', token: input.token! }
  else throw invalid('testPassword', 'Autodiscover needs a login: give one to test with, or the service account')
  return discoverEwsUrl(address, (deps.transport ?? transportFor)(auth), deps.autodiscover ?? AUTODISCOVER_CANDIDATES)
}
