import { resolveItem, type Operation, type OpContext } from './context.ts'
import { mailFor } from './item-props.ts'
import { resolveOccurrence } from './occurrence.ts'
import { attempt, ItemError, response, responseMessage } from './soap.ts'
import { child, childrenOf, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * DeleteItem (web-service-reference/deleteitem-operation.md): DeleteType is
 * required (schema); SendMeetingCancellations is required for calendar items
 * (ErrorSendMeetingCancellationsRequired) and AffectedTaskOccurrences for
 * tasks (ErrorAffectedTaskOccurrencesRequired). Deleting an exception of a
 * series removes that occurrence: it joins the master's DeletedOccurrences
 * (web-service-reference/deletedoccurrences.md); so does an OccurrenceItemId.
 * MoveToDeletedItems moves the item to Deleted Items under a new id
 * (disposaltype); HardDelete and SoftDelete take it out of the mailbox here.
 */
function deleteOne (ctx: OpContext, req: XmlElement, given: XmlElement): string {
  let ref = given
  if (ref.name === 'OccurrenceItemId') {
    const found = resolveOccurrence(ctx, ref)
    if (found.exception === null) {
      if (req.attrs.SendMeetingCancellations === undefined) throw new ItemError('ErrorSendMeetingCancellationsRequired', 'The SendMeetingCancellations attribute is required for calendar items.')
      found.master.deletedOccurrences.push(found.originalStart)
      ctx.store.touch(found.master)
      return ''
    }
    ref = { ...ref, name: 'ItemId', attrs: { Id: found.exception.id } }
  }
  const item = resolveItem(ctx, ref)
  const cancellations = req.attrs.SendMeetingCancellations
  if (item.kind === 'CalendarItem' && cancellations === undefined) {
    throw new ItemError('ErrorSendMeetingCancellationsRequired', 'The SendMeetingCancellations attribute is required for calendar items.')
  }
  if (item.kind === 'Task' && req.attrs.AffectedTaskOccurrences === undefined) {
    throw new ItemError('ErrorAffectedTaskOccurrencesRequired', 'The AffectedTaskOccurrences attribute is required for tasks.')
  }
  const master = item.master === null ? undefined : ctx.store.items.get(item.master.id)
  mailFor(ctx, master ?? item, 'DeleteItem', cancellations, 'cancellation')
  if (master !== undefined && item.master !== null) {
    master.exceptions = master.exceptions.filter(id => id !== item.id)
    master.deletedOccurrences.push(item.master.originalStart)
    ctx.store.items.delete(item.id)
    ctx.store.touch(master)
  } else if (req.attrs.DeleteType === 'MoveToDeletedItems') {
    const bin = ctx.store.distinguished(item.mailbox, 'deleteditems')
    if (bin === null) ctx.store.remove(item)
    else ctx.store.move(item, bin.id)
  } else {
    ctx.store.remove(item)
  }
  return ''
}

export const deleteItem: Operation = (ctx, req) => {
  const ids = childrenOf(child(req, NS.m, 'ItemIds'), NS.t)
  return response('DeleteItem', ids.map(ref => responseMessage('DeleteItem', attempt(() => deleteOne(ctx, req, ref)))))
}
