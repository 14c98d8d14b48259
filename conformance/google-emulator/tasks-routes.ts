// Tasks v1 endpoints: tasklists.list/get/insert/update/patch/delete, tasks.list/get/insert/
// update/patch/delete/clear/move. No sync token and no watch, as at Google.
import type { tasks_v1 } from 'googleapis';
import type { ApiContext } from './context.ts';
import { authorize, scopes } from './context.ts';
import { errors, GoogleApiError } from './errors.ts';
import type { Req, Route } from './http.ts';
import { boolParam, intParam, jsonBody, route } from './http.ts';
import { mergePatch } from './event-resource.ts';
import type { StoredTask, TaskList } from './store.ts';
import { randomToken } from './store.ts';

type Task = tasks_v1.Schema$Task;
const L = '/tasks/v1/lists/{tasklist}';
const POSITION_STEP = 2 ** 30;
const FIRST_POSITION = 2 ** 52;

function position(pos: number): string {
  return String(pos).padStart(20, '0');
}

/** Google keeps only the date of `due`: "2026-11-23T17:00:00Z" → "2026-11-23T00:00:00.000Z". */
function normalizeDue(due: unknown): string | undefined {
  if (due == null || due === '') return undefined;
  const m = typeof due === 'string' ? /^(\d{4}-\d{2}-\d{2})/.exec(due) : null;
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) throw errors.invalid('Invalid value for: due');
  return `${m[1]}T00:00:00.000Z`;
}

function rfc3339(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new GoogleApiError(400, { domain: 'global', reason: 'invalid', message: `Invalid value for: ${name}`, location: name, locationType: 'parameter' });
  return ms;
}

export function tasksRoutes(ctx: ApiContext): Route[] {
  const { store } = ctx;
  const base = () => `${ctx.baseUrl()}/tasks/v1`;

  function listResource(list: TaskList): tasks_v1.Schema$TaskList {
    return { kind: 'tasks#taskList', id: list.id, etag: list.etag, title: list.title, updated: list.updated, selfLink: `${base()}/users/@me/lists/${list.id}` };
  }

  function listOf(req: Req, accepted: string[]): TaskList {
    const auth = authorize(ctx, req, accepted);
    const list = store.taskListFor(auth.email, req.params.tasklist!);
    if (!list) throw errors.notFound();
    return list;
  }

  function taskOf(list: TaskList, id: string): StoredTask {
    const t = list.tasks.get(id);
    if (!t) throw errors.notFound();
    return t;
  }

  function siblings(list: TaskList, parent: string | undefined, except?: string): StoredTask[] {
    return [...list.tasks.values()].filter((t) => (t.data.parent ?? undefined) === parent && t.data.id !== except && !t.data.deleted).sort((a, b) => a.pos - b.pos);
  }

  /** Position for a task placed first under `parent`, or right after `previous`. */
  function placement(list: TaskList, parent: string | undefined, previous: string | undefined, self?: string): number {
    const sibs = siblings(list, parent, self);
    if (!previous) return sibs.length ? sibs[0]!.pos - POSITION_STEP : FIRST_POSITION;
    const i = sibs.findIndex((s) => s.data.id === previous);
    if (i < 0) throw errors.invalid('Invalid value for: previous');
    const next = sibs[i + 1];
    if (!next) return sibs[i]!.pos + POSITION_STEP;
    if (next.pos - sibs[i]!.pos > 1) return Math.floor((next.pos + sibs[i]!.pos) / 2);
    sibs.forEach((s, k) => (s.pos = FIRST_POSITION + k * 2 * POSITION_STEP));
    return sibs[i]!.pos + POSITION_STEP;
  }

  function checkParent(list: TaskList, parent: string | null): string | undefined {
    if (!parent) return undefined;
    const p = list.tasks.get(parent);
    if (!p || p.data.deleted) throw errors.invalid('Invalid value for: parent');
    return parent;
  }

  function touch(list: TaskList): { iso: string; etag: string } {
    const stamp = store.stamp();
    list.updated = stamp.iso;
    list.etag = `"${Buffer.from(String(stamp.micros)).toString('base64url')}"`;
    return { iso: stamp.iso, etag: `"${Buffer.from(`t${stamp.micros}`).toString('base64url')}"` };
  }

  /** The stored task after a write: `input` holds every writable field (patch already merged). */
  function writeTask(list: TaskList, input: Record<string, unknown>, previous: StoredTask | undefined, placed?: { parent?: string; pos: number }): Task {
    if (input.status != null && input.status !== 'needsAction' && input.status !== 'completed') throw errors.invalid('Invalid value for: status');
    if (typeof input.title === 'string' && input.title.length > 1024) throw errors.invalid('Invalid value for: title');
    const { iso, etag } = touch(list);
    const id = previous?.data.id ?? randomToken(16);
    const status = (input.status as string | undefined) ?? 'needsAction';
    const task: Task = {
      kind: 'tasks#task',
      id,
      etag,
      title: typeof input.title === 'string' ? input.title : '',
      updated: iso,
      selfLink: `${base()}/lists/${list.id}/tasks/${id}`,
    };
    const parent = placed ? placed.parent : previous?.data.parent ?? undefined;
    if (parent) task.parent = parent;
    task.position = position(placed?.pos ?? previous!.pos);
    if (typeof input.notes === 'string' && input.notes) task.notes = input.notes;
    task.status = status;
    const due = normalizeDue(input.due);
    if (due) task.due = due;
    if (status === 'completed') {
      const given = typeof input.completed === 'string' && !Number.isNaN(Date.parse(input.completed)) ? new Date(input.completed).toISOString() : undefined;
      task.completed = given ?? previous?.data.completed ?? iso;
    }
    // A deleted task is gone for good at Google: later writes cannot bring it back.
    if (input.deleted === true || previous?.data.deleted) task.deleted = true;
    if (input.hidden === true || (previous?.data.hidden && status === 'completed')) task.hidden = true;
    task.links = Array.isArray(input.links) ? (input.links as Task['links']) : (previous?.data.links ?? []);
    task.webViewLink = `https://tasks.google.com/task/${id}?sa=6`;
    list.tasks.set(id, { ord: previous?.ord ?? store.nextOrd(), pos: placed?.pos ?? previous!.pos, data: task });
    return task;
  }

  function writable(t: Task): Record<string, unknown> {
    const { title, notes, status, due, completed, deleted, hidden, links } = t;
    return JSON.parse(JSON.stringify({ title, notes, status, due, completed, deleted, hidden, links }));
  }

  /** Tasks in Google's order: top level by position, each followed by its subtasks. */
  function ordered(list: TaskList): StoredTask[] {
    const all = [...list.tasks.values()];
    const byPos = (a: StoredTask, b: StoredTask) => a.pos - b.pos || a.ord - b.ord;
    const top = all.filter((t) => !t.data.parent).sort(byPos);
    return top.flatMap((t) => [t, ...all.filter((c) => c.data.parent === t.data.id).sort(byPos)]);
  }

  return [
    route('GET', '/tasks/v1/users/@me/lists', (req) => {
      const auth = authorize(ctx, req, scopes.tasksRead);
      const lists = store.account(auth.email).taskListIds.map((id) => listResource(store.taskLists.get(id)!));
      const max = Math.min(intParam(req.query, 'maxResults') ?? 20, 1000);
      const offset = Number(req.query.get('pageToken') ?? 0) || 0;
      const body: tasks_v1.Schema$TaskLists = { kind: 'tasks#taskLists', etag: `"${randomToken(8)}"` };
      if (offset + max < lists.length) body.nextPageToken = String(offset + max);
      const items = lists.slice(offset, offset + max);
      if (items.length) body.items = items;
      return { status: 200, body };
    }),
    route('POST', '/tasks/v1/users/@me/lists', (req) => {
      const auth = authorize(ctx, req, scopes.tasksWrite);
      const body = jsonBody(req);
      return { status: 200, body: listResource(store.addTaskList(auth.email, typeof body.title === 'string' ? body.title : '')) };
    }),
    route('GET', '/tasks/v1/users/@me/lists/{tasklist}', (req) => ({ status: 200, body: listResource(listOf(req, scopes.tasksRead)) })),
    ...(['PUT', 'PATCH'] as const).map((method) =>
      route(method, '/tasks/v1/users/@me/lists/{tasklist}', (req) => {
        const list = listOf(req, scopes.tasksWrite);
        const body = jsonBody(req);
        if (typeof body.title === 'string') list.title = body.title;
        else if (method === 'PUT') list.title = '';
        touch(list);
        return { status: 200, body: listResource(list) };
      }),
    ),
    route('DELETE', '/tasks/v1/users/@me/lists/{tasklist}', (req) => {
      const list = listOf(req, scopes.tasksWrite);
      if (store.account(list.owner).taskListIds[0] === list.id) throw errors.badRequest('The default task list cannot be deleted.', 'invalid');
      store.removeTaskList(list.id);
      return { status: 204 };
    }),

    route('GET', `${L}/tasks`, (req) => {
      const list = listOf(req, scopes.tasksRead);
      const q = req.query;
      const showCompleted = boolParam(q, 'showCompleted', true);
      const showDeleted = boolParam(q, 'showDeleted', false);
      const showHidden = boolParam(q, 'showHidden', false);
      const [updatedMin, dueMin, dueMax, completedMin, completedMax] = ['updatedMin', 'dueMin', 'dueMax', 'completedMin', 'completedMax'].map((n) => rfc3339(q, n));
      const within = (v: string | null | undefined, min?: number, max?: number) => {
        if (min === undefined && max === undefined) return true;
        if (!v) return false;
        const ms = Date.parse(v);
        return (min === undefined || ms >= min) && (max === undefined || ms < max);
      };
      const all = ordered(list)
        .map((t) => t.data)
        .filter((t) => (showCompleted || t.status !== 'completed') && (showDeleted || !t.deleted) && (showHidden || !t.hidden))
        .filter((t) => updatedMin === undefined || Date.parse(t.updated!) >= updatedMin)
        .filter((t) => within(t.due, dueMin, dueMax) && within(t.completed, completedMin, completedMax));
      const max = Math.max(1, Math.min(intParam(q, 'maxResults') ?? 20, 100));
      const pageToken = q.get('pageToken');
      const offset = pageToken ? Number(Buffer.from(pageToken, 'base64url').toString('utf8')) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw errors.invalid('Invalid value for: pageToken');
      const body: tasks_v1.Schema$Tasks = { kind: 'tasks#tasks', etag: list.etag };
      if (offset + max < all.length) body.nextPageToken = Buffer.from(String(offset + max)).toString('base64url');
      const items = all.slice(offset, offset + max);
      if (items.length) body.items = items;
      return { status: 200, body };
    }),
    route('POST', `${L}/tasks`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      const parent = checkParent(list, req.query.get('parent'));
      const pos = placement(list, parent, req.query.get('previous') ?? undefined);
      return { status: 200, body: writeTask(list, jsonBody(req), undefined, { parent, pos }) };
    }),
    route('GET', `${L}/tasks/{task}`, (req) => ({ status: 200, body: taskOf(listOf(req, scopes.tasksRead), req.params.task!).data })),
    route('PUT', `${L}/tasks/{task}`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      return { status: 200, body: writeTask(list, jsonBody(req), taskOf(list, req.params.task!)) };
    }),
    route('PATCH', `${L}/tasks/{task}`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      const prev = taskOf(list, req.params.task!);
      return { status: 200, body: writeTask(list, mergePatch(writable(prev.data), jsonBody(req)), prev) };
    }),
    route('DELETE', `${L}/tasks/{task}`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      const prev = taskOf(list, req.params.task!);
      for (const t of [prev, ...[...list.tasks.values()].filter((c) => c.data.parent === prev.data.id)]) {
        if (!t.data.deleted) writeTask(list, { ...writable(t.data), deleted: true }, t);
      }
      return { status: 204 };
    }),
    route('POST', `${L}/clear`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      for (const t of list.tasks.values()) {
        if (t.data.status === 'completed' && !t.data.hidden && !t.data.deleted) writeTask(list, { ...writable(t.data), hidden: true }, t);
      }
      return { status: 204 };
    }),
    route('POST', `${L}/tasks/{task}/move`, (req) => {
      const list = listOf(req, scopes.tasksWrite);
      const prev = taskOf(list, req.params.task!);
      const parent = checkParent(list, req.query.get('parent'));
      if (parent === prev.data.id) throw errors.invalid('Invalid value for: parent');
      const pos = placement(list, parent, req.query.get('previous') ?? undefined, prev.data.id!);
      return { status: 200, body: writeTask(list, writable(prev.data), prev, { parent, pos }) };
    }),
  ];
}
