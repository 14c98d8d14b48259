import { resolveFolder, type Operation, type OpContext } from './context.ts'
import { attempt, response, responseMessage } from './soap.ts'
import type { Folder } from './store.ts'
import { child, childrenOf, el, NS, tv, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * GetFolder (web-service-reference/getfolder-operation.md) and FindFolder
 * (web-service-reference/findfolder-operation.md) over the calendar, tasks
 * and their sub-folders.
 */

/** The folder element by class: CalendarFolder for IPF.Appointment, TasksFolder for IPF.Task (web-service-reference/folders-ex15websvcsotherref.md). */
const elementOf = (f: Folder): string => f.folderClass.startsWith('IPF.Appointment') ? 't:CalendarFolder' : f.folderClass.startsWith('IPF.Task') ? 't:TasksFolder' : 't:Folder'

function renderFolder (ctx: OpContext, f: Folder, shape: XmlElement | null): string {
  const base = child(shape, NS.t, 'BaseShape')?.text ?? 'Default'
  const id = el('t:FolderId', { Id: f.id, ChangeKey: f.changeKey })
  if (base === 'IdOnly') return el(elementOf(f), {}, id)
  const total = ctx.store.itemsIn(f.id).length
  const children = ctx.store.childFolders(f.id, false).length
  const all = base === 'AllProperties'
  return el(elementOf(f), {},
    id,
    all && f.parentId !== null ? el('t:ParentFolderId', { Id: f.parentId, ChangeKey: ctx.store.folders.get(f.parentId)?.changeKey }) : null,
    all ? tv('FolderClass', f.folderClass) : null,
    tv('DisplayName', f.displayName),
    tv('TotalCount', total),
    tv('ChildFolderCount', children))
}

export const getFolder: Operation = (ctx, req) => {
  const shape = child(req, NS.m, 'FolderShape')
  const refs = childrenOf(child(req, NS.m, 'FolderIds'), NS.t)
  return response('GetFolder', refs.map(ref => responseMessage('GetFolder', attempt(() => el('m:Folders', {}, renderFolder(ctx, resolveFolder(ctx, ref), shape))))))
}

export const findFolder: Operation = (ctx, req) => {
  const shape = child(req, NS.m, 'FolderShape')
  const deep = req.attrs.Traversal === 'Deep'
  const parents = childrenOf(child(req, NS.m, 'ParentFolderIds'), NS.t)
  return response('FindFolder', parents.map(ref => responseMessage('FindFolder', attempt(() => {
    const parent = resolveFolder(ctx, ref)
    const found = ctx.store.childFolders(parent.id, deep)
    return el('m:RootFolder', { TotalItemsInView: found.length, IncludesLastItemInRange: true }, el('t:Folders', {}, ...found.map(f => renderFolder(ctx, f, shape))))
  }))))
}
