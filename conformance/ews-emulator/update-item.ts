import { resolveItem, type Operation, type OpContext } from './context.ts'
import { fieldName, sameExtended } from './items.ts'
import { checkTimes, extendedOf, KINDS, mailFor, normaliseTimes, propertyOf } from './item-props.ts'
import { dropExceptionsOnNewPattern, insertException, occurrenceProps, resolveOccurrence, zoneOf } from './occurrence.ts'
import { attempt, ItemError, response, responseMessage } from './soap.ts'
import type { Item } from './store.ts'
import { child, childrenOf, el, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * UpdateItem (web-service-reference/updateitem-operation.md, updateitem.md):
 * SetItemField / AppendToItemField / DeleteItemField by FieldURI or
 * ExtendedFieldURI, each SetItemField carrying an item with exactly that one
 * property (ErrorIncorrectUpdatePropertyCount). ConflictResolution
 * NeverOverwrite with a ChangeKey that is not the current one fails with
 * ErrorIrresolvableConflict, without one with
 * ErrorChangeKeyRequiredForWriteOperations (web-service-reference/responsecode.md,
 * itemid.md); AutoResolve and AlwaysOverwrite apply the change. Calendar items
 * need SendMeetingInvitationsOrCancellations
 * (ErrorSendMeetingInvitationsOrCancellationsRequired).
 */

function checkVersion (req: XmlElement, ref: XmlElement, item: Item): void {
  if (req.attrs.ConflictResolution !== 'NeverOverwrite') return
  const key = ref.attrs.ChangeKey
  if (key === undefined) throw new ItemError('ErrorChangeKeyRequiredForWriteOperations', 'The change key is required for this operation.')
  if (key !== item.changeKey) {
    throw new ItemError('ErrorIrresolvableConflict', 'An irresolvable conflict occurred during the save operation: the item has been changed since the change key was read.')
  }
}

/** The one property (or ExtendedProperty) of the item element inside a SetItemField / AppendToItemField. */
function valueOf (update: XmlElement, item: Item): XmlElement {
  const holder = childrenOf(update, NS.t).find(c => KINDS.includes(c.name as Item['kind']) || c.name === 'Item')
  const props = childrenOf(holder, NS.t)
  if (holder === undefined || props.length !== 1) throw new ItemError('ErrorIncorrectUpdatePropertyCount', 'An object within a change description must contain one and only one property to modify.')
  if (holder.name !== 'Item' && holder.name !== item.kind) throw new ItemError('ErrorInvalidPropertySet', `A ${holder.name} cannot update a ${item.kind}.`)
  return props[0] as XmlElement
}

function applyUpdate (item: Item, update: XmlElement): void {
  const uriEl = child(update, NS.t, 'FieldURI') ?? child(update, NS.t, 'ExtendedFieldURI') ?? child(update, NS.t, 'IndexedFieldURI')
  if (uriEl === null) throw new ItemError('ErrorInvalidPropertySet', 'A property path is required.')
  if (uriEl.name === 'IndexedFieldURI') throw new ItemError('ErrorUnsupportedPathForQuery', 'Indexed properties are not emulated.')
  const extended = uriEl.name === 'ExtendedFieldURI'
  const name = extended ? 'ExtendedProperty' : fieldName(uriEl.attrs.FieldURI ?? '')
  if (update.name === 'DeleteItemField') {
    if (extended) item.extended = item.extended.filter(p => !sameExtended(p.uri, uriEl.attrs))
    else {
      propertyOf(item.kind, { ns: NS.t, name, attrs: {}, children: [], text: '' })
      item.props.delete(name)
    }
    return
  }
  const value = valueOf(update, item)
  if (value.name !== name) throw new ItemError('ErrorInvalidPropertySet', `The property path ${name} does not match the property ${value.name}.`)
  if (extended) {
    item.extended = [...item.extended.filter(p => !sameExtended(p.uri, uriEl.attrs)), extendedOf(value)]
    return
  }
  const prop = propertyOf(item.kind, value)
  if (update.name === 'AppendToItemField') {
    const current = item.props.get(name)
    item.props.set(name, current === undefined ? prop : { ...prop, text: current.text + prop.text })
    return
  }
  item.props.set(name, prop)
}

/** The item a change names: by ItemId, or an occurrence by OccurrenceItemId (its exception, made on write). */
function target (ctx: OpContext, ref: XmlElement): { item: Item; found: ReturnType<typeof resolveOccurrence> | null } {
  if (ref.name !== 'OccurrenceItemId') return { item: resolveItem(ctx, ref), found: null }
  const found = resolveOccurrence(ctx, ref)
  const item = found.exception ?? { ...found.master, id: '', master: { id: found.master.id, originalStart: found.originalStart }, props: occurrenceProps(found), extended: [...found.master.extended], exceptions: [], deletedOccurrences: [] }
  return { item, found }
}

function updateOne (ctx: OpContext, req: XmlElement, change: XmlElement): string {
  const ref = childrenOf(change, NS.t).find(c => c.name.endsWith('ItemId'))
  if (ref === undefined) throw new ItemError('ErrorInvalidIdMalformed', 'Id is malformed.')
  const { item: current, found } = target(ctx, ref)
  let item = current
  const setting = req.attrs.SendMeetingInvitationsOrCancellations
  if (item.kind === 'CalendarItem' && setting === undefined) {
    throw new ItemError('ErrorSendMeetingInvitationsOrCancellationsRequired', 'The SendMeetingInvitationsOrCancellations attribute is required for calendar items.')
  }
  if (found === null) checkVersion(req, ref, item)
  // all or nothing: the updates apply to a copy first
  const draft: Item = { ...item, props: new Map(item.props), extended: [...item.extended] }
  for (const u of childrenOf(child(change, NS.t, 'Updates'), NS.t)) applyUpdate(draft, u)
  normaliseTimes(draft, zoneOf(ctx, draft.props))
  checkTimes(draft)
  if (item.kind === 'Task' && draft.props.get('Status')?.text === 'Completed' && !draft.props.has('CompleteDate')) {
    draft.props.set('CompleteDate', { ns: NS.t, name: 'CompleteDate', attrs: {}, children: [], text: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') })
  }
  if (found !== null && found.exception === null) {
    item = insertException(ctx, found, draft.props, draft.extended)
  } else {
    const before = item.props
    item.props = draft.props
    item.extended = draft.extended
    if (item.kind === 'CalendarItem') dropExceptionsOnNewPattern(ctx.store, item, before)
    ctx.store.touch(item)
  }
  mailFor(ctx, item, 'UpdateItem', setting, 'update')
  return el('m:Items', {}, el(`t:${item.kind}`, {}, el('t:ItemId', { Id: item.id, ChangeKey: item.changeKey }))) +
    el('m:ConflictResults', {}, el('t:Count', {}, '0'))
}

export const updateItem: Operation = (ctx, req) => {
  const changes = childrenOf(child(req, NS.m, 'ItemChanges'), NS.t, 'ItemChange')
  return response('UpdateItem', changes.map(c => responseMessage('UpdateItem', attempt(() => updateOne(ctx, req, c)))))
}
