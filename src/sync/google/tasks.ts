import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import type { TaskData } from '../items.ts'
import { RemoteConflict, type ChangePage, type RemoteCollection, type RemoteItem, type Window } from '../provider.ts'
import { call, ifMatch, removeRemote, unlessGone, updateExisting } from './client.ts'
import { fromGoogleTask, toGoogleTask } from './mapping.ts'

/** Clock skew allowed between Google's `updated` stamps and the cursor. */
const SKEW_MS = 120_000

/**
 * A Google task list as a sync collection. Tasks has no sync token and no
 * push: the cursor is the newest `updated` seen (less a skew margin), polled
 * with showDeleted and showHidden so deletions and cleared tasks come too.
 * Re-reading an item twice is harmless: the engine skips unchanged hashes.
 */
export function googleTasks (api: tasks_v1.Tasks, tasklist: string): RemoteCollection {
  return {
    kind: 'task',
    polled: true,

    async changes (cursor: string | null, window: Window): Promise<ChangePage> {
      const started = Date.now()
      const items: RemoteItem[] = []
      let pageToken: string | undefined
      for (;;) {
        const params: tasks_v1.Params$Resource$Tasks$List = { tasklist, maxResults: 100, showDeleted: cursor !== null, showHidden: true, showCompleted: true, pageToken }
        if (cursor !== null) params.updatedMin = new Date(Date.parse(cursor) - SKEW_MS).toISOString()
        else if (window.from !== null) params.updatedMin = window.from.toISOString()
        const page = await call('list tasks', () => api.tasks.list(params))
        for (const t of page.items ?? []) {
          const item = fromGoogleTask(t)
          if (cursor === null && window.to !== null && item.data !== null && (item.data as TaskData).due !== null && new Date(`${(item.data as TaskData).due}T00:00:00Z`) > window.to) continue
          items.push(item)
        }
        if (page.nextPageToken == null) break
        pageToken = page.nextPageToken
      }
      // the time the listing started: a task updated during it is read again next time
      return { items, cursor: new Date(started).toISOString(), full: cursor === null }
    },

    async get (remoteId: string): Promise<RemoteItem | null> {
      return unlessGone('get task', async () => fromGoogleTask((await api.tasks.get({ tasklist, task: remoteId })).data))
    },

    async create (data, ref, extras, opts): Promise<RemoteItem> {
      if (opts.mayExist) {
        // Tasks cannot take a client-chosen id: after a crash, look for our reference before creating again
        // the reference line itself, not a substring: kalends:task:1 is inside kalends:task:12
        let pageToken: string | undefined
        for (;;) {
          const page = await call('find task', () => api.tasks.list({ tasklist, maxResults: 100, showHidden: true, showCompleted: true, pageToken }))
          const found = page.items?.find(t => t.deleted !== true && fromGoogleTask(t).ref?.id === ref.id)
          if (found != null) return fromGoogleTask(found)
          if (page.nextPageToken == null) break
          pageToken = page.nextPageToken
        }
      }
      return fromGoogleTask(await call('create task', () => api.tasks.insert({ tasklist, requestBody: toGoogleTask(data as TaskData, ref, extras) })))
    },

    async update (remoteId, etag, data, ref, extras): Promise<RemoteItem> {
      return updateExisting('update task', async () => {
        const res = await api.tasks.update({ tasklist, task: remoteId, requestBody: { ...toGoogleTask(data as TaskData, ref, extras), id: remoteId } }, ifMatch(etag))
        if (res.data.deleted === true) throw new RemoteConflict('update task: it is deleted')
        return fromGoogleTask(res.data)
      })
    },

    async remove (remoteId, etag): Promise<void> {
      return removeRemote('delete task', e => api.tasks.delete({ tasklist, task: remoteId }, ifMatch(e)), etag)
    }
  }
}
