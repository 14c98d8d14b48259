import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import type { XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * The emulated mailboxes, in memory. Ids and ChangeKeys are opaque base64 as
 * Exchange's are (web-service-reference/itemid.md: "Id … ChangeKey identifies
 * a specific version of the item"); every write makes a new ChangeKey.
 */

export type ItemKind = 'CalendarItem' | 'Task' | 'Message'

export type ExtendedProp = {
  /** the ExtendedFieldURI attributes, PropertyType included */
  uri: Record<string, string>
  value: string | null
  values: string[] | null
}

export type Item = {
  id: string
  changeKey: string
  mailbox: string
  folderId: string
  kind: ItemKind
  /** the item's own properties as the client or a user set them, by element name */
  props: Map<string, XmlElement>
  extended: ExtendedProp[]
  created: Date
  modified: Date
  uid: string
  /** an exception of a series: the master and the original start */
  master: { id: string; originalStart: string } | null
  /** exceptions of a master, by id */
  exceptions: string[]
  /** original starts of deleted occurrences of a master */
  deletedOccurrences: string[]
}

export type Folder = {
  id: string
  changeKey: string
  mailbox: string
  parentId: string | null
  displayName: string
  folderClass: string
  distinguished: string | null
  /** bumped by expireSyncStates: older states answer ErrorInvalidSyncStateData */
  generation: number
}

export type Change = { seq: number; itemId: string; folderId: string; exists: boolean }

/**
 * A mailbox event as notifications report it (web-service-reference/notification-ex15websvcsotherref.md):
 * the item, its folder, and for a move where it was before.
 */
export type MailboxEvent = {
  type: 'CreatedEvent' | 'ModifiedEvent' | 'DeletedEvent' | 'MovedEvent'
  mailbox: string
  itemId: string
  changeKey: string
  folderId: string
  old: { itemId: string; folderId: string } | null
  at: Date
}

export type Mailbox = { smtp: string; name: string; sid: string; password: string | null }

export type SentMail = {
  operation: 'CreateItem' | 'UpdateItem' | 'DeleteItem'
  itemId: string
  subject: string
  setting: string
  kind: 'invitation' | 'update' | 'cancellation'
  recipients: string[]
  at: Date
}

const opaque = (bytes: number): string => randomBytes(bytes).toString('base64')

/** The folders a new mailbox has (web-service-reference/distinguishedfolderid.md). */
const DISTINGUISHED: { id: string; name: string; cls: string }[] = [
  { id: 'calendar', name: 'Calendar', cls: 'IPF.Appointment' },
  { id: 'tasks', name: 'Tasks', cls: 'IPF.Task' },
  { id: 'inbox', name: 'Inbox', cls: 'IPF.Note' },
  { id: 'deleteditems', name: 'Deleted Items', cls: 'IPF.Note' }
]

export class Store {
  readonly mailboxes = new Map<string, Mailbox>()
  readonly folders = new Map<string, Folder>()
  readonly items = new Map<string, Item>()
  readonly log: Change[] = []
  readonly mail: SentMail[] = []
  /** service accounts and the mailboxes they may impersonate ('*' for all) */
  readonly impersonation = new Map<string, Set<string>>()
  readonly #syncKey = randomBytes(32)
  #seq = 0
  /** who hears of every change (the notification subscriptions) */
  readonly listeners: ((e: MailboxEvent) => void)[] = []

  #emit (type: MailboxEvent['type'], item: Item, old: MailboxEvent['old'] = null): void {
    const e: MailboxEvent = { type, mailbox: item.mailbox, itemId: item.id, changeKey: item.changeKey, folderId: item.folderId, old, at: new Date() }
    for (const l of this.listeners) l(e)
  }

  addMailbox (smtp: string, opts: { name?: string; password?: string } = {}): Mailbox {
    const key = smtp.toLowerCase()
    const existing = this.mailboxes.get(key)
    if (existing !== undefined) return existing
    const mb: Mailbox = { smtp: key, name: opts.name ?? smtp.split('@')[0] ?? smtp, sid: `S-1-5-21-${randomBytes(4).readUInt32LE()}-${this.mailboxes.size + 1000}`, password: opts.password ?? null }
    this.mailboxes.set(key, mb)
    const root = this.addFolder(key, null, 'Top of Information Store', 'IPF.Note', 'msgfolderroot')
    for (const d of DISTINGUISHED) this.addFolder(key, root.id, d.name, d.cls, d.id)
    return mb
  }

  addFolder (mailbox: string, parentId: string | null, displayName: string, folderClass: string, distinguished: string | null = null): Folder {
    const f: Folder = { id: opaque(33), changeKey: opaque(9), mailbox, parentId, displayName, folderClass, distinguished, generation: 0 }
    this.folders.set(f.id, f)
    return f
  }

  distinguished (mailbox: string, id: string): Folder | null {
    for (const f of this.folders.values()) if (f.mailbox === mailbox && f.distinguished === id) return f
    return null
  }

  childFolders (parentId: string, deep: boolean): Folder[] {
    const out: Folder[] = []
    for (const f of this.folders.values()) {
      if (f.parentId !== parentId) continue
      out.push(f)
      if (deep) out.push(...this.childFolders(f.id, true))
    }
    return out
  }

  itemsIn (folderId: string): Item[] {
    return [...this.items.values()].filter(i => i.folderId === folderId && i.master === null)
  }

  /** Stores a new item and journals it in its folder's change log. */
  insert (init: Pick<Item, 'mailbox' | 'folderId' | 'kind' | 'props' | 'extended'> & { uid?: string; master?: Item['master'] }): Item {
    const now = new Date()
    const item: Item = {
      id: opaque(48), changeKey: opaque(12), mailbox: init.mailbox, folderId: init.folderId, kind: init.kind,
      props: init.props, extended: init.extended, created: now, modified: now,
      uid: init.uid ?? newUid(), master: init.master ?? null, exceptions: [], deletedOccurrences: []
    }
    this.items.set(item.id, item)
    this.#journal(item, init.master === null || init.master === undefined ? 'CreatedEvent' : null)
    return item
  }

  /** A write to an item: new ChangeKey, journalled (an exception journals its master, as Exchange does). */
  touch (item: Item): void {
    this.#journal(item, 'ModifiedEvent')
  }

  #journal (item: Item, event: MailboxEvent['type'] | null): void {
    item.changeKey = opaque(12)
    item.modified = new Date()
    if (item.master !== null) {
      const master = this.items.get(item.master.id)
      if (master !== undefined) this.touch(master)
      return
    }
    this.log.push({ seq: ++this.#seq, itemId: item.id, folderId: item.folderId, exists: this.items.has(item.id) })
    if (event !== null) this.#emit(event, item)
  }

  remove (item: Item, quiet = false): void {
    for (const id of item.exceptions) this.items.delete(id)
    this.items.delete(item.id)
    if (item.master !== null) return
    this.log.push({ seq: ++this.#seq, itemId: item.id, folderId: item.folderId, exists: false })
    if (!quiet) this.#emit('DeletedEvent', item)
  }

  /**
   * MoveItem semantics (DeleteType MoveToDeletedItems): a new id in the other
   * folder; the old folder's SyncFolderItems sees a delete, notifications one
   * MovedEvent with the old id and folder.
   */
  move (item: Item, folderId: string): Item {
    this.remove(item, true)
    const moved: Item = { ...item, id: opaque(48), changeKey: opaque(12), folderId, master: null, exceptions: [], deletedOccurrences: [], modified: new Date() }
    this.items.set(moved.id, moved)
    this.log.push({ seq: ++this.#seq, itemId: moved.id, folderId, exists: true })
    this.#emit('MovedEvent', moved, { itemId: item.id, folderId: item.folderId })
    return moved
  }

  get head (): number {
    return this.#seq
  }

  /** SyncState: opaque and signed, so a forged or foreign one is recognised (ErrorInvalidSyncStateData). */
  syncState (folder: Folder, seq: number): string {
    const body = Buffer.from(JSON.stringify({ f: folder.id, g: folder.generation, s: seq }))
    const mac = createHmac('sha256', this.#syncKey).update(body).digest().subarray(0, 16)
    return Buffer.concat([mac, body]).toString('base64')
  }

  /** The position a SyncState names in this folder, or null when it is not one of ours, another folder's, or expired. */
  readSyncState (folder: Folder, state: string): number | null {
    const raw = Buffer.from(state, 'base64')
    if (raw.length < 17) return null
    const mac = createHmac('sha256', this.#syncKey).update(raw.subarray(16)).digest().subarray(0, 16)
    if (!mac.equals(raw.subarray(0, 16))) return null
    try {
      const { f, g, s } = JSON.parse(raw.subarray(16).toString()) as { f: string; g: number; s: number }
      return f === folder.id && g === folder.generation ? s : null
    } catch {
      return null
    }
  }
}

/** Exchange's UIDs are the hex of the Global Object ID (web-service-reference/uid.md). */
function newUid (): string {
  return `040000008200E00074C5B7101A82E00800000000${randomUUID().replace(/-/g, '').toUpperCase()}00000000000000001000000000`
}
