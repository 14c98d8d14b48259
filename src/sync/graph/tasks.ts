import type { TaskData } from '../items.ts'
import type { ChangePage, RemoteCollection, Window } from '../provider.ts'
import { removeRemote, unlessGone, updateExisting, type GraphClient } from './client.ts'
import { fromGraphTask, removed, toGraphTask, type GraphTask } from './mapping.ts'

/**
 * A Microsoft To Do list as a sync collection: tasks/delta per list
 * (todotask-delta.md; the deltaLink is the cursor, 410 starts over), If-Match
 * on changes. To Do cannot take a client-chosen id or a transactionId: after
 * a crash a create first looks for the reference line it writes.
 */
export function graphTasks (client: GraphClient, userPath: string, listId: () => Promise<string>): RemoteCollection {
  const tasks = async () => `${userPath}/todo/lists/${encodeURIComponent(await listId())}/tasks`
  const taskPath = async (id: string) => `${await tasks()}/${encodeURIComponent(id)}`
  return {
    kind: 'task',
    // a delta round reports what differs from the snapshot its token names: a task Kalends made after that and the user deleted before the next round is in neither
    netListing: true,

    async changes (cursor: string | null, window: Window): Promise<ChangePage> {
      const round = await client.pages<GraphTask>(cursor === null ? 'list tasks' : 'list changed tasks', cursor ?? `${await tasks()}/delta`)
      const items = round.items.map(t => t['@removed'] !== undefined ? removed(t.id) : fromGraphTask(t))
        .filter(i => cursor !== null || i.data === null || window.to === null || (i.data as TaskData).due === null || new Date(`${(i.data as TaskData).due}T00:00:00Z`) <= window.to)
      // a first round has no tombstones: a task deleted while the delta token was lost (410) shows only by its absence
      const live = cursor === null ? round.items.filter(t => t['@removed'] === undefined).map(t => t.id) : undefined
      return { items, cursor: round.deltaLink ?? cursor ?? '', full: cursor === null, ...(live === undefined ? {} : { live }) }
    },

    async get (remoteId) {
      const path = await taskPath(remoteId)
      return unlessGone(async () => fromGraphTask((await client.call<GraphTask>('get task', { method: 'GET', path })).body))
    },

    async create (data, ref, extras, opts) {
      if (opts.mayExist) {
        const { items } = await client.pages<GraphTask>('find task', await tasks())
        const found = items.map(fromGraphTask).find(t => t.ref?.id === ref.id)
        if (found !== undefined) return found
      }
      return fromGraphTask((await client.call<GraphTask>('create task', { method: 'POST', path: await tasks(), body: toGraphTask(data as TaskData, ref, extras) })).body)
    },

    async update (remoteId, etag, data, ref, extras) {
      const path = await taskPath(remoteId)
      return updateExisting('update task', async () => fromGraphTask((await client.call<GraphTask>('update task', { method: 'PATCH', path, etag, body: toGraphTask(data as TaskData, ref, extras) })).body))
    },

    async remove (remoteId, etag) {
      const path = await taskPath(remoteId)
      return removeRemote(tag => client.call('delete task', { method: 'DELETE', path, etag: tag }), etag)
    }
  }
}
