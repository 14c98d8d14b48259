import { folderIn, type Operation, type OpContext } from './context.ts'
import { checkTimes, defaultZones, extendedOf, KINDS, mailFor, normaliseTimes, propertyOf } from './item-props.ts'
import { zoneOf } from './occurrence.ts'
import { attempt, ItemError, response, responseMessage } from './soap.ts'
import type { Folder, ItemKind } from './store.ts'
import { child, childrenOf, el, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * CreateItem (web-service-reference/createitem-operation-calendar-item.md,
 * createitem-operation-task.md): SendMeetingInvitations is required for
 * calendar items (ErrorSendMeetingInvitationsRequired); the item goes to
 * SavedItemFolderId or the default calendar / tasks folder, which must be of
 * the item's kind (ErrorCannotCreateCalendarItemInNonCalendarFolder,
 * ErrorCannotCreateTaskInNonTaskFolder); the answer carries the new ItemId.
 */

const HOME: Record<ItemKind, { folder: string; cls: string; wrong: string }> = {
  CalendarItem: { folder: 'calendar', cls: 'IPF.Appointment', wrong: 'ErrorCannotCreateCalendarItemInNonCalendarFolder' },
  Task: { folder: 'tasks', cls: 'IPF.Task', wrong: 'ErrorCannotCreateTaskInNonTaskFolder' },
  Message: { folder: 'inbox', cls: 'IPF.Note', wrong: 'ErrorInvalidOperation' }
}

function targetFolder (ctx: OpContext, saved: Folder | null, kind: ItemKind): Folder {
  const home = HOME[kind]
  const folder = saved ?? ctx.store.distinguished(ctx.mailbox, home.folder)
  if (folder === null) throw new ItemError('ErrorFolderNotFound', 'The specified folder could not be found in the store.')
  if (!folder.folderClass.startsWith(home.cls)) throw new ItemError(home.wrong, `A ${kind} cannot be created in a folder of class ${folder.folderClass}.`)
  return folder
}

function createOne (ctx: OpContext, req: XmlElement, saved: Folder | null, e: XmlElement): string {
  const kind = e.name as ItemKind
  if (!KINDS.includes(kind)) throw new ItemError('ErrorInvalidOperation', `Creating a ${e.name} is not supported by this emulator.`)
  const setting = req.attrs.SendMeetingInvitations
  if (kind === 'CalendarItem' && setting === undefined) {
    throw new ItemError('ErrorSendMeetingInvitationsRequired', 'The SendMeetingInvitations attribute is required for calendar items.')
  }
  const folder = targetFolder(ctx, saved, kind)
  const props = new Map<string, XmlElement>()
  const extended = []
  let uid: string | undefined
  for (const p of e.children.filter(c => c.ns === NS.t)) {
    if (p.name === 'ExtendedProperty') extended.push(extendedOf(p))
    else if (p.name === 'UID') uid = p.text
    else props.set(p.name, propertyOf(kind, p))
  }
  const draft = { kind, props }
  defaultZones(ctx, draft)
  normaliseTimes(draft, zoneOf(ctx, props))
  checkTimes(draft)
  const item = ctx.store.insert({ mailbox: ctx.mailbox, folderId: folder.id, kind, props, extended, uid })
  mailFor(ctx, item, 'CreateItem', setting, 'invitation')
  return el('m:Items', {}, el(`t:${kind}`, {}, el('t:ItemId', { Id: item.id, ChangeKey: item.changeKey })))
}

export const createItem: Operation = (ctx, req) => {
  let saved: Folder | null = null
  let savedError: ItemError | null = null
  try {
    saved = folderIn(ctx, child(req, NS.m, 'SavedItemFolderId'))
  } catch (e) {
    if (!(e instanceof ItemError)) throw e
    savedError = e
  }
  const items = childrenOf(child(req, NS.m, 'Items'), NS.t)
  return response('CreateItem', items.map(e => responseMessage('CreateItem', attempt(() => {
    if (savedError !== null) throw savedError
    return createOne(ctx, req, saved, e)
  }))))
}
