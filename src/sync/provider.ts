import type { ItemKind } from '../db/schema.ts'
import type { PushContact } from './contacts-source.ts'
import type { ItemData } from './items.ts'
import type { Connection } from './tables.ts'

/**
 * What the sync engine needs from an external calendar system. Google is the
 * first implementation; Exchange (EWS) and Microsoft Graph plug in here
 * without changes to the engine.
 */
export type ItemRef = { kind: ItemKind; id: number; uid: string }

export type RemoteItem = {
  remoteId: string
  etag: string | null
  deleted: boolean
  /** null when deleted */
  data: ItemData | null
  /** the CRM item this remote item says it copies (a hidden property), if any */
  ref: { kind: ItemKind; id: number } | null
  /** iCalendar UID, for matching copies made by others */
  uid: string | null
  /** e-mail addresses of the attendees, when the remote item is a meeting */
  attendees: string[]
  updated: Date | null
}

export type Window = { from: Date | null; to: Date | null }

export type ChangePage = {
  items: RemoteItem[]
  /** cursor to store once these items are applied */
  cursor: string
  /** true when this was a full listing (no or expired cursor) */
  full: boolean
  /**
   * On a full listing, the id of every live item, in the window or not, when
   * the provider's full listing has no tombstones (Exchange's SyncFolderItems
   * without a SyncState, Graph's first delta round): an item deleted while
   * the cursor was lost shows only as an absence from it. A windowed listing
   * (Graph's calendarView) names those in its window; the engine reads any
   * other linked item once more before it deletes anything.
   */
  live?: string[]
}

export interface RemoteCollection {
  readonly kind: ItemKind
  /**
   * The provider cannot push changes of this collection (Google Tasks): it is
   * listed when its poll interval has passed or a run is forced, not on every
   * run a push or a CRM change starts.
   */
  readonly polled?: boolean
  /**
   * A listing from a cursor folds each item's changes since the cursor into
   * one, so an item created after the cursor was taken and deleted before the
   * next listing is not listed at all (Exchange's SyncFolderItems: the
   * SyncState knows only the items it has listed; Graph's delta rounds
   * likewise compare with the snapshot the token names). Kalends' own creates made
   * after a listing are such items: the engine reads each one it does not see
   * in the next listing.
   */
  readonly netListing?: boolean
  /** Changes since the cursor, or everything in the window when the cursor is null. */
  changes (cursor: string | null, window: Window): Promise<ChangePage>
  get (remoteId: string): Promise<RemoteItem | null>
  /** Idempotent: a retry after a crash finds the first attempt instead of creating a second. */
  create (data: ItemData, ref: ItemRef, extras: string[], opts: CreateOptions): Promise<RemoteItem>
  /**
   * Several new items at once (Graph's JSON $batch), for a first pass: the
   * answers in order, each the item made or why it was not. Idempotent as
   * create is. Optional: without it items go out one by one.
   */
  createMany? (items: { data: ItemData; ref: ItemRef; extras: string[] }[]): Promise<(RemoteItem | Error)[]>
  /** Throws RemoteConflict when the etag is stale or the remote item is gone. */
  update (remoteId: string, etag: string | null, data: ItemData, ref: ItemRef, extras: string[]): Promise<RemoteItem>
  /** Gone already is fine. */
  remove (remoteId: string, etag: string | null): Promise<void>
}

export type CreateOptions = {
  /** look for a copy of the same UID first (meetings others may have invited this account to) */
  lookupUid: boolean
  /** an earlier attempt may have created it before the process died */
  mayExist: boolean
}

export interface ProviderSession {
  collections: RemoteCollection[]
}

export type AccessToken = { token: string; expiresAt: number }

export type ProviderContext = {
  /** credentials opened from the connection's sealed secret */
  credentials: string | null
  /** stores new credentials (a refreshed token) sealed */
  saveCredentials (plain: string): Promise<void>
  /** the short-lived access token the last run (in any process) got, opened from its sealed copy */
  access: AccessToken | null
  /** stores a new access token sealed, for every later run until it expires */
  saveAccess (access: AccessToken): Promise<void>
}

export type Choice = { id: string; name: string }

export interface Provider {
  readonly name: Connection['provider']
  open (conn: Connection, ctx: ProviderContext): Promise<ProviderSession>
  /** The external calendars and task lists the user can pick from. */
  choices? (conn: Connection, ctx: ProviderContext): Promise<{ calendars: Choice[]; taskLists: Choice[] }>
  /**
   * Asks the provider to notify us of changes; returns what to store in connection.channel.
   * A new channel goes to store before it is asked for: its first notification may come before the answer.
   */
  watch? (conn: Connection, ctx: ProviderContext, previous: Record<string, unknown> | null, store: (channel: Record<string, unknown>) => Promise<void>): Promise<Record<string, unknown> | null>
  unwatch? (conn: Connection, ctx: ProviderContext, channel: Record<string, unknown>): Promise<void>
  /**
   * For providers whose notifications come on a connection we hold open
   * (Exchange's streaming subscriptions) rather than to an address they post
   * to: listens on the channel until the server ends the connection (then
   * the worker opens it again), reporting every message and every change.
   * Throws ChannelLost when the server no longer knows the channel: the next
   * run makes a new one.
   */
  listen? (conn: Connection, ctx: ProviderContext, channel: Record<string, unknown>, signal: AbortSignal, on: ChannelEvents): Promise<void>
  /**
   * One-way push of CRM contacts: the remote copies become what `desired` says
   * (created, written over, deleted); returns the remote group to remember.
   */
  pushContacts? (conn: Connection, ctx: ProviderContext, desired: PushContact[], group: string | null): Promise<string>
  /** Deletes every copy the push made (a disconnect that asks for it); returns how many. */
  removeContacts? (conn: Connection, ctx: ProviderContext): Promise<number>
}

export type ChannelEvents = {
  /** any message of the channel, a keep-alive included: push is arriving */
  alive (): Promise<void>
  /** something in a watched collection changed: a sync run is due */
  changed (): Promise<void>
}

/** The server forgot the notification channel (expired, unsubscribed, restarted): make a new one. */
export class ChannelLost extends Error {}

/** The credentials were refused: the connection turns red until the user reconnects. */
export class AuthFailed extends Error {}
/** A stale etag on update (HTTP 412). */
export class RemoteConflict extends Error {}
/** The incremental cursor is no longer valid: list everything again. */
export class CursorExpired extends Error {}
/** Worth retrying later (rate limits, 5xx, network). */
export class Transient extends Error {}
/**
 * The external system cannot hold this item as the CRM has it (a repeat rule
 * Microsoft cannot express): the CRM keeps it whole, the connection's log
 * says why, and it is not tried again until it changes.
 */
export class Unrepresentable extends Error {}
/** The engine stopped the sync on purpose (mass-delete guard, wrong account). */
export class SyncStopped extends Error {}
