import { randomBytes } from 'node:crypto'
import type { Faults } from './faults.ts'
import { zoneOfDefinition } from '../../src/sync/microsoft/zones.ts'
import { extendedOf, KINDS, normaliseTimes } from './item-props.ts'
import { dropExceptionsOnNewPattern } from './occurrence.ts'
import type { ItemKind, Store } from './store.ts'
import { NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * What tests do around the protocol: accounts, rights, tokens, and edits
 * "as a user in Outlook" (they journal like any write, so SyncFolderItems
 * reports them). Item properties are given as t: elements in schema order,
 * e.g. `<t:Subject>Lunch</t:Subject><t:Start>2026-05-01T12:00:00Z</t:Start>`.
 */

function fragment (xml: string): XmlElement[] {
  return parse(`<x xmlns:t="${NS.t}">${xml}</x>`).children.filter(c => c.ns === NS.t)
}

/** Sets the properties of `xml`; times without offset are wall times of the item's StartTimeZone (else UTC), as Exchange stores them in UTC. */
function fill (props: Map<string, XmlElement>, extended: ReturnType<typeof extendedOf>[], xml: string): void {
  for (const p of fragment(xml)) {
    if (p.name === 'ExtendedProperty') extended.push(extendedOf(p))
    else props.set(p.name, p)
  }
  const zone = props.get('StartTimeZone')
  normaliseTimes({ props }, zone === undefined ? 'UTC' : zoneOfDefinition(zone).iana)
}

export function control (store: Store, tokens: Map<string, string>, faults: Faults) {
  const item = (id: string) => {
    const it = store.items.get(id)
    if (it === undefined) throw new Error(`no item ${id}`)
    return it
  }
  const folder = (mailbox: string, ref: string) => {
    const f = store.distinguished(mailbox.toLowerCase(), ref) ?? store.folders.get(ref)
    if (f === undefined || f === null) throw new Error(`no folder ${ref} in ${mailbox}`)
    return f
  }
  return {
    addMailbox (smtp: string, opts: { name?: string; password?: string } = {}) {
      return store.addMailbox(smtp, opts).smtp
    },
    /** A sub-folder, e.g. a second calendar: returns its FolderId. */
    addFolder (smtp: string, parent: string, displayName: string, folderClass = 'IPF.Appointment') {
      return store.addFolder(smtp.toLowerCase(), folder(smtp, parent).id, displayName, folderClass).id
    },
    issueToken (smtp: string) {
      const token = randomBytes(24).toString('base64url')
      tokens.set(token, smtp.toLowerCase())
      return token
    },
    /** The ApplicationImpersonation role of a service account, for one mailbox or '*' (exchange-web-services/how-to-configure-impersonation.md). */
    grantImpersonation (serviceAccount: string, target: string) {
      const key = serviceAccount.toLowerCase()
      const set = store.impersonation.get(key) ?? new Set<string>()
      set.add(target.toLowerCase())
      store.impersonation.set(key, set)
    },
    userCreate (smtp: string, folderRef: string, kind: ItemKind, xml: string, uid?: string) {
      if (!KINDS.includes(kind)) throw new Error(`unknown kind ${kind}`)
      const props = new Map<string, XmlElement>()
      const extended: ReturnType<typeof extendedOf>[] = []
      fill(props, extended, xml)
      return store.insert({ mailbox: smtp.toLowerCase(), folderId: folder(smtp, folderRef).id, kind, props, extended, uid }).id
    },
    userUpdate (id: string, xml: string, remove: string[] = []) {
      const it = item(id)
      const before = new Map(it.props)
      fill(it.props, it.extended, xml)
      for (const name of remove) it.props.delete(name)
      if (it.kind === 'CalendarItem') dropExceptionsOnNewPattern(store, it, before)
      store.touch(it)
      return it.changeKey
    },
    userDelete (id: string) {
      store.remove(item(id))
    },
    /** An exception of a series, as Outlook makes when one occurrence is moved or renamed. */
    userModifyOccurrence (masterId: string, originalStart: string, xml: string) {
      const master = item(masterId)
      const existing = master.exceptions.map(e => store.items.get(e)).find(e => e?.master?.originalStart === originalStart)
      if (existing !== undefined) return this.userUpdate(existing.id, xml)
      const props = new Map([...master.props].filter(([k]) => k !== 'Recurrence'))
      const extended = [...master.extended]
      fill(props, extended, xml)
      const ex = store.insert({ mailbox: master.mailbox, folderId: master.folderId, kind: 'CalendarItem', props, extended, uid: master.uid, master: { id: master.id, originalStart } })
      master.exceptions.push(ex.id)
      store.touch(master)
      return ex.id
    },
    userDeleteOccurrence (masterId: string, originalStart: string) {
      const master = item(masterId)
      master.deletedOccurrences.push(originalStart)
      store.touch(master)
    },
    /** Every SyncState given so far for the folder (all folders when none named) answers ErrorInvalidSyncStateData. */
    expireSyncStates (smtp?: string, folderRef?: string) {
      for (const f of store.folders.values()) {
        if (smtp === undefined || (f.mailbox === smtp.toLowerCase() && (folderRef === undefined || f.id === folder(smtp, folderRef).id))) f.generation++
      }
    },
    fault: faults.add.bind(faults),
    clearFaults: faults.clear.bind(faults),
    /** Mail that would have gone out: any SendTo* but SendToNone on a meeting with attendees. */
    sentMail () {
      return store.mail.map(m => ({ ...m, at: m.at.toISOString() }))
    },
    item (id: string) {
      const it = item(id)
      return { id: it.id, changeKey: it.changeKey, kind: it.kind, uid: it.uid, props: Object.fromEntries([...it.props].map(([k, v]) => [k, v.text])), extended: it.extended, exceptions: it.exceptions, deletedOccurrences: it.deletedOccurrences }
    },
    items (smtp: string, folderRef: string) {
      return store.itemsIn(folder(smtp, folderRef).id).map(i => i.id)
    },
    folderId (smtp: string, folderRef: string) {
      return folder(smtp, folderRef).id
    }
  }
}

export type Control = ReturnType<typeof control>
