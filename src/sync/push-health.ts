import type { Db } from '../db/connect.ts'
import { logSync } from './links.ts'
import { syncDb, type Connection } from './tables.ts'

/**
 * Whether a connection's push notifications actually arrive, so the page says
 * "push on" only while they do, whichever provider sends them. Google sends a
 * `sync` message as soon as it has made a channel, then one message per change
 * (https://developers.google.com/calendar/api/guides/push); Exchange's
 * streaming connection says ConnectionStatus OK when a worker opens it, then
 * sends events and keep-alives on it (web-service-reference/getstreamingevents-operation.md).
 * The rules:
 *
 * - a channel that has had no notification at all, not even the first,
 *   HANDSHAKE_MS after it was made is not arriving (Google cannot reach the
 *   push address, or our answer was refused; no worker holds Exchange's
 *   stream open, or it cannot reach the server);
 * - a change a run lists, made in Google while the channel lived and more than
 *   NOTICE_MS before the listing, with no notification since, was missed;
 * - a channel past its expiration was not renewed;
 * - a channel Google refused to make or renew (the run's reason).
 *
 * A problem a run found holds until a notification of the current channel
 * arrives after it, or a newer channel is made.
 */
export const HANDSHAKE_MS = 60_000
export const NOTICE_MS = 60_000

export type PushState = 'off' | 'starting' | 'on' | 'failing'
export type PushStatus = { state: PushState; reason: string | null }

type PushFacts = Pick<Connection, 'channel' | 'push_seen_at' | 'push_seen_channel' | 'push_problem' | 'push_problem_at'> & Partial<Pick<Connection, 'provider'>>

/** How the provider is named, and where its first notification fails to come from, in the page's sentences. */
const SIDES: Record<Connection['provider'], { title: string; handshake: (channel: Record<string, unknown>) => string }> = {
  google: { title: 'Google', handshake: channel => `not even its first (sync) message: check that ${String(channel.address ?? 'the push address')}/sync/google/push is reachable from the internet` },
  exchange: { title: 'Exchange', handshake: () => 'not even the stream\'s first ConnectionStatus: check that a sync worker runs (KALENDS_SYNC_WORKERS) and can hold a connection to the EWS URL open' },
  graph: { title: 'Microsoft 365', handshake: channel => `check that ${String(channel.address ?? 'the push address').replace(/\/+$/, '')}/sync/graph/notify/${String(channel.id)} is reachable from the internet` }
}
const sideOf = (provider: Connection['provider'] | undefined) => SIDES[provider ?? 'google']
export const providerTitle = (provider: Connection['provider']): string => sideOf(provider).title

/** What a run saw that only a run can see: Google refused the channel, or a listing brought a change no notification announced. */
export type PushEvidence = { refused?: string; unannounced?: Date }

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const since = (channel: Record<string, unknown>) => typeof channel.since === 'number' ? channel.since : null

/** The time of the last notification of the connection's current channel, if any. */
function seenAt (c: PushFacts): number | null {
  return c.channel !== null && c.push_seen_at !== null && c.push_seen_channel === c.channel.id ? c.push_seen_at.getTime() : null
}

export function pushStatus (c: PushFacts, now = Date.now()): PushStatus {
  const channel = c.channel
  const seen = seenAt(c)
  if (c.push_problem !== null) {
    const at = c.push_problem_at?.getTime() ?? 0
    const cured = (seen !== null && seen > at) || (channel !== null && (since(channel) ?? 0) > at)
    if (!cured) return { state: 'failing', reason: c.push_problem }
  }
  if (channel === null) return { state: 'off', reason: null }
  const expiration = Number(channel.expiration)
  // Exchange's streaming subscriptions have no expiry of their own while a worker listens
  if (channel.expiration !== undefined && expiration <= now) return { state: 'failing', reason: `the channel expired at ${stamp(expiration)} and was not renewed` }
  const made = since(channel)
  // channels made before their start was recorded: nothing to hold them to
  if (seen !== null || made === null) return { state: 'on', reason: null }
  if (now - made > HANDSHAKE_MS) {
    const side = sideOf(c.provider)
    return { state: 'failing', reason: `no notification from ${side.title} since the channel was made at ${stamp(made)}, ${side.handshake(channel)}` }
  }
  return { state: 'starting', reason: null }
}

/** How the page, the API and the log say it. */
export function pushSentence (s: PushStatus, pollMinutes: number, provider?: Connection['provider']): string {
  if (s.state === 'failing') return `push not arriving — polling every ${pollMinutes} min: ${s.reason ?? ''}`
  if (s.state === 'off') return `push off — polling every ${pollMinutes} min`
  return s.state === 'starting' ? `push starting: waiting for ${sideOf(provider).title}'s first notification` : 'push on: changes arrive within seconds'
}

/**
 * At the end of a run: the push status with what the run saw, stored and
 * logged when it changed (once per problem, not once per run).
 */
export async function recordPushHealth (db: Db, conn: Connection, channel: Record<string, unknown> | null, evidence: PushEvidence, pollMinutes: number, nowMs = Date.now()): Promise<void> {
  const sdb = syncDb(db)
  // notifications that arrived while the run ran count
  const seen = await sdb.selectFrom('sync_connections').select(['push_seen_at', 'push_seen_channel']).where('id', '=', conn.id).executeTakeFirstOrThrow()
  // judged at nowMs; stamped with the real time, which notifications and new channels are compared with
  const now = new Date()
  const facts: PushFacts = { channel, ...seen, push_problem: conn.push_problem, push_problem_at: conn.push_problem_at, provider: conn.provider }
  const seenMs = seenAt(facts)
  const title = sideOf(conn.provider).title
  let found: string | null = evidence.refused === undefined ? null : `${title} did not set up the channel: ${evidence.refused}`
  if (found === null && evidence.unannounced !== undefined && channel !== null && (seenMs === null || seenMs < evidence.unannounced.getTime())) {
    found = `a change made in ${title} at ${stamp(evidence.unannounced.getTime())} came in by polling; no notification announced it`
  }
  if (found !== null) Object.assign(facts, { push_problem: found, push_problem_at: now })
  const status = pushStatus(facts, nowMs)
  if (status.state === 'failing' && status.reason !== conn.push_problem) {
    await sdb.updateTable('sync_connections').set({ push_problem: status.reason, push_problem_at: now }).where('id', '=', conn.id).execute()
    await logSync(db, conn.id, { direction: 'none', action: 'error', message: pushSentence(status, pollMinutes, conn.provider) })
  } else if ((status.state === 'on' || status.state === 'off') && conn.push_problem !== null) {
    // a new channel ('starting') has to show it works before the log says so
    await sdb.updateTable('sync_connections').set({ push_problem: null, push_problem_at: null }).where('id', '=', conn.id).execute()
    if (status.state === 'on') await logSync(db, conn.id, { direction: 'none', action: 'info', message: 'push notifications arrive again' })
  }
}
