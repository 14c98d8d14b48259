import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { connectionOf, userConnections, viewOf, type ConnectionView } from '../sync/connections.ts'
import { html, type Html } from './html.ts'
import { when } from './layout.ts'
import { t } from './messages.ts'
import { idParam } from './params.ts'
import type { Web } from './plugin.ts'

/**
 * The sync state where people work: a badge on the calendar and task pages
 * (green, syncing, red with the reason and a link to fix it), and a small
 * JSON route of one connection's run that the Connections page polls after
 * "Sync now", so the run shows without a reload.
 */

/** Connections with a run queued or under way: the sync queue's own jobs (pg-boss, src/sync/jobs.ts). */
export async function runningConnections (db: Db, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set()
  try {
    const rows = await sql<{ id: number }>`select distinct (data->>'connectionId')::int as id from pgboss.job
      where name = 'kalends-sync' and state in ('created', 'retry', 'active') and (data->>'connectionId')::int in (${sql.join(ids)})`.execute(db)
    return new Set(rows.rows.map(r => Number(r.id)))
  } catch {
    return new Set() // no queue yet (sync never started in this database)
  }
}

const providerName = (v: ConnectionView) => t(`conn.provider.${v.provider}`)

/** One badge for all of the user's connections: the worst state shows, a red one with its reason and a link. */
export async function syncBadge (web: Web, user: User): Promise<Html> {
  const views = (await userConnections(web.k.db, user)).map(viewOf)
  if (views.length === 0) return html``
  const running = await runningConnections(web.k.db, views.map(v => v.id))
  const bad = views.find(v => v.state === 'error')
  if (bad !== undefined) {
    return html`<p class="badge bad sync-badge" role="status"><span aria-hidden="true">✗</span> ${t('badge.bad', { provider: providerName(bad), account: bad.account, reason: bad.reason ?? t('conn.failed') })}
      <a href="/connections#connection-${bad.id}">${bad.needsReconnect ? t('badge.reconnect') : t('badge.fix')}</a></p>`
  }
  const busy = views.find(v => running.has(v.id) || v.state === 'pending')
  if (busy !== undefined) {
    return html`<p class="badge wait sync-badge" role="status"><span aria-hidden="true">…</span> ${t('badge.syncing', { provider: providerName(busy), account: busy.account })} <a href="/connections#connection-${busy.id}">${t('badge.details')}</a></p>`
  }
  const last = views.map(v => v.lastSuccessAt).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0] ?? null
  return html`<p class="badge good sync-badge" role="status"><span aria-hidden="true">✓</span> ${t('badge.good', { count: views.length, when: when(last, user.timezone) })} <a href="/connections">${t('badge.details')}</a></p>`
}

export function syncProgressRoutes (app: FastifyInstance, web: Web): void {
  app.get('/connections/:id/progress', async (request, reply) => {
    const user = web.session(request).user
    const c = await connectionOf(web.k.db, user, idParam(request))
    const v = viewOf(c)
    // the run's own figure (src/sync/progress.ts) is there only while a run goes on; a killed run's is replaced by its retry
    const p = c.progress
    const running = p !== null || (await runningConnections(web.k.db, [c.id])).has(c.id)
    return reply.type('application/json').send({
      id: v.id, state: v.state, running, reason: v.reason, itemsIn: v.itemsIn, itemsOut: v.itemsOut,
      lastSuccessAt: v.lastSuccessAt?.toISOString() ?? null, run: p,
      text: running
        ? p === null ? t('badge.progress', { read: v.itemsIn, written: v.itemsOut }) : t('finish.progressLeft', { read: p.in, written: p.out, left: p.left })
        : v.state === 'error' ? t('conn.bad', { reason: v.reason ?? t('conn.failed'), when: when(v.stateAt, user.timezone) }) : t('badge.done', { read: v.itemsIn, written: v.itemsOut, when: when(v.lastSuccessAt, user.timezone) })
    })
  })
}
