import type { SecretBox } from '../auth/secrets.ts'
import type { Config } from '../config.ts'
import type { DbHandle } from '../db/connect.ts'
import { contactsInScope } from './contacts-scope.ts'
import type { EngineDeps } from './engine.ts'
import { exchangeProvider, type ExchangeDeps } from './ews/provider.ts'
import { Rollouts } from './ews/service-mode.ts'
import type { ConsentDeps } from './google/consent.ts'
import { googleEndpoints } from './google/client.ts'
import { googleProvider } from './google/provider.ts'
import { graphEndpoints, type GraphEndpoints } from './graph/client.ts'
import { graphProvider, type GraphDeps } from './graph/provider.ts'
import { SyncJobs } from './jobs.ts'
import type { Provider } from './provider.ts'

/** The sync side of a process: the engine's dependencies (providers among them), the job queue. */
export type Sync = {
  engine: EngineDeps
  google: ConsentDeps
  exchange: ExchangeDeps
  graph: GraphDeps
  jobs: SyncJobs
  /** Exchange's service-account mode: connections for every user of an organisation */
  rollouts: Rollouts
}

export function createSync (config: Config, handle: DbHandle, secrets: SecretBox, log?: EngineDeps['log']): Sync {
  // read at call time: a test server learns its address only once it listens
  const base = {
    db: handle.db,
    secrets,
    endpoints: googleEndpoints(config.google.baseUrl),
    defaults: config.google,
    get publicUrl () { return config.publicUrl }
  }
  const exchange: ExchangeDeps = { db: handle.db, secrets, ...(config.exchange.autodiscoverUrls === null ? {} : { autodiscover: config.exchange.autodiscoverUrls }) }
  let endpoints: GraphEndpoints | null = null
  const graph: GraphDeps = {
    db: handle.db,
    secrets,
    // read at first use: tests set the emulator's addresses after the server started
    get endpoints () { return (endpoints ??= graphEndpoints(config.graph)) },
    get publicUrl () { return config.publicUrl }
  }
  const providers = new Map<string, Provider>([['google', googleProvider(base)], ['exchange', exchangeProvider(exchange)], ['graph', graphProvider(graph)]])
  const engine: EngineDeps = { ...base, get publicUrl () { return config.publicUrl }, providers, log, contacts: contactsInScope }
  const jobs = new SyncJobs(handle, engine, { concurrency: config.syncWorkers })
  const rollouts = new Rollouts({ engine, exchange, jobs })
  jobs.usersChanged = changes => rollouts.usersChanged(changes)
  return { engine, google: base, exchange, graph, jobs, rollouts }
}
