import { randomBytes } from 'node:crypto'
import type { ProviderContext } from './provider.ts'
import type { Connection } from './tables.ts'

/** Extra headers a provider client sends with each call (the run's, below). */
export type CallHeaders = Record<string, string>

/** The header naming the run a provider call belongs to. */
export const RUN_HEADER = 'x-kalends-run'

const runIds = new WeakMap<ProviderContext, CallHeaders>()

/**
 * The headers every call of one run carries: its id (connection id and a
 * random part), one per provider context, i.e. per run. Runs of a connection
 * share its kept credentials, so a proxy watching the provider's side (the
 * worker tests) tells them apart only by this.
 */
export function runHeaders (conn: Pick<Connection, 'id'>, ctx: ProviderContext): CallHeaders {
  let headers = runIds.get(ctx)
  if (headers === undefined) {
    headers = { [RUN_HEADER]: `${conn.id}.${randomBytes(6).toString('hex')}` }
    runIds.set(ctx, headers)
  }
  return headers
}
