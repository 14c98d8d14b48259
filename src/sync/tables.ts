import type { ColumnType, Generated, Kysely, Selectable } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { Database, ItemKind } from '../db/schema.ts'
import type { RunProgress } from './progress.ts'

/** The tables of migrations/0006_sync.sql (and 0007), added to the store's Database type where sync needs them. */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Json<T> = ColumnType<T, string | undefined, string>

export type Provider = 'google' | 'exchange' | 'graph'
export type ConnectionState = 'pending' | 'ok' | 'error'

export interface IntegrationsTable {
  org_id: number
  provider: Provider
  enabled: Generated<boolean>
  settings: Json<Record<string, unknown>>
  secret_sealed: string | null
  updated_at: Stamp
}

export interface SyncConnectionsTable {
  id: Generated<number>
  user_id: number
  provider: Provider
  account: string
  auth_kind: 'oauth' | 'delegation' | 'password'
  credentials_sealed: string | null
  options: Json<Record<string, unknown>>
  state: Generated<ConnectionState>
  state_reason: string | null
  state_at: Stamp
  auth_failed_at: NullableStamp
  last_success_at: NullableStamp
  journal_seq: ColumnType<number, number | undefined, number>
  cursors: Json<Record<string, string>>
  channel: Json<Record<string, unknown> | null> | null
  items_in: ColumnType<number, number | undefined, number>
  items_out: ColumnType<number, number | undefined, number>
  created_at: ColumnType<Date, Date | string | undefined, never>
  /** the OAuth access token, sealed, shared by every process until access_expires_at (migration 0007) */
  access_sealed: ColumnType<string | null, string | null | undefined, string | null>
  access_expires_at: NullableStamp
  /** the last push notification that arrived, and for which channel */
  push_seen_at: NullableStamp
  push_seen_channel: ColumnType<string | null, string | null | undefined, string | null>
  /** why push notifications are not arriving, as a run found it */
  push_problem: ColumnType<string | null, string | null | undefined, string | null>
  push_problem_at: NullableStamp
  /** the worker process holding the connection's notification stream open, until when (migration 0009) */
  push_lease_owner: ColumnType<string | null, string | null | undefined, string | null>
  push_lease_until: NullableStamp
  /** disconnected by its user: kept (options, log) for a reconnect to the same account, invisible and idle until then */
  disconnected_at: NullableStamp
  /** the running sync's figures for "Sync now", null between runs (migration 0014) */
  progress: ColumnType<RunProgress | null, string | null | undefined, string | null>
}

export interface SyncLinksTable {
  connection_id: number
  item_kind: ItemKind
  item_id: number
  remote_id: string | null
  remote_etag: string | null
  written_hash: string | null
  crm_hash: string | null
  updated_at: Stamp
}

export type LogAction = 'created' | 'updated' | 'deleted' | 'reverted' | 'linked' | 'error' | 'info'

export interface SyncLogTable {
  id: Generated<number>
  connection_id: number
  at: Stamp
  direction: 'in' | 'out' | 'none'
  action: LogAction
  item_kind: ItemKind | null
  item_id: number | null
  remote_id: string | null
  message: string
}

export interface OAuthStatesTable {
  state_sha256: string
  user_id: number
  provider: Provider
  connection_id: number | null
  expires_at: Date
}

export type SyncTables = {
  integrations: IntegrationsTable
  sync_connections: SyncConnectionsTable
  sync_links: SyncLinksTable
  sync_log: SyncLogTable
  oauth_states: OAuthStatesTable
}

export type SyncDb = Kysely<Database & SyncTables>
export type Connection = Selectable<SyncConnectionsTable>
export type Link = Selectable<SyncLinksTable>

export const syncDb = (db: Db): SyncDb => db.withTables<SyncTables>() as unknown as SyncDb
