import type { ColumnType, Generated, Kysely, Selectable } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { Database } from '../db/schema.ts'

/** The tables of migrations/0002_feeds.sql, added to the store's Database type where feeds need them. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Count = ColumnType<number, number | undefined, number>

export interface CalendarUserPrefsTable {
  calendar_id: number
  user_id: number
  favourite: Generated<boolean>
  allow_export: boolean | null
  updated_at: Stamp
}

export interface CalendarExportPolicyTable {
  calendar_id: number
  sharees_may_export: Generated<boolean>
  updated_at: Stamp
}

export type FeedScope = 'calendar' | 'favourites'

export interface FeedsTable {
  id: Generated<number>
  org_id: number
  user_id: number
  scope: FeedScope
  calendar_id: number | null
  busy_only: Generated<boolean>
  name: Generated<string>
  token_sha256: string
  token_hint: string
  generation: Generated<number>
  created_at: CreatedAt
  rotated_at: NullableTimestamp
  revoked_at: NullableTimestamp
  last_fetched_at: NullableTimestamp
  last_user_agent: string | null
  fetch_count: Count
}

export interface FeedClientsTable {
  feed_id: number
  user_agent: string
  first_seen: Stamp
  last_seen: Stamp
  fetches: Count
}

export type FeedTables = {
  calendar_user_prefs: CalendarUserPrefsTable
  calendar_export_policy: CalendarExportPolicyTable
  feeds: FeedsTable
  feed_clients: FeedClientsTable
}

export type FeedDb = Kysely<Database & FeedTables>
export type Feed = Selectable<FeedsTable>
export type CalendarUserPrefs = Selectable<CalendarUserPrefsTable>

export const feedDb = (db: Db): FeedDb => db.withTables<FeedTables>() as unknown as FeedDb
