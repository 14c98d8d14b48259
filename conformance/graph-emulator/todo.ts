// Microsoft To Do on Graph v1.0 (delegated only). microsoft-graph-docs-contrib:
// api-reference/v1.0/resources/todotask.md, api/todo-list-lists.md,
// api/todotasklist-list-tasks.md, api/todotasklist-post-tasks.md,
// api/todotask-update.md, api/todotask-delete.md, api/todotask-delta.md.
import { randomBytes } from 'node:crypto';
import type { Call } from './context.ts';
import { need } from './context.ts';
import { GraphError, graphErrors } from './errors.ts';
import type { Task, TaskList } from './mailbox.ts';
import { newChangeKey } from './mailbox.ts';

const READ = ['Tasks.Read', 'Tasks.ReadWrite'];
const WRITE = ['Tasks.ReadWrite'];
const STATUSES = ['notStarted', 'inProgress', 'completed', 'waitingOnOthers', 'deferred'];

export function listOf(call: Call, id: string): TaskList {
  if (!call.token.userId) throw graphErrors.accessDenied(); // no application permission for To Do writes (sync-anchors §2.3)
  const l = call.s.mail.lists.get(id);
  if (!l || l.userId !== call.user.id) throw graphErrors.notFound();
  return l;
}

export function renderList(l: TaskList): Record<string, unknown> {
  return { '@odata.etag': `W/"${l.id.slice(5, 25)}"`, displayName: l.displayName, isOwner: true, isShared: false, wellknownListName: l.wellknownListName, id: l.id };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export function renderTask(t: Task): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@odata.etag': `W/"${t.etag}"`, importance: t.importance, isReminderOn: false, status: t.status, title: t.title,
    createdDateTime: iso(t.createdMs), lastModifiedDateTime: iso(t.modifiedMs), hasAttachments: false, categories: t.categories,
    id: t.id, body: t.body, bodyLastModifiedDateTime: iso(t.modifiedMs),
  };
  if (t.dueDateTime) out.dueDateTime = t.dueDateTime;
  if (t.completedDateTime) out.completedDateTime = t.completedDateTime;
  return out;
}

function dateTimeTimeZone(v: unknown): { dateTime: string; timeZone: string } | null {
  if (v === null) return null;
  const o = v as { dateTime?: unknown; timeZone?: unknown };
  if (typeof o?.dateTime !== 'string' || Number.isNaN(Date.parse(o.dateTime.replace(/\.\d+$/, '') + 'Z'))) throw graphErrors.badBody('Cannot convert the literal to the expected type \'microsoft.graph.dateTimeTimeZone\'.');
  // To Do keeps only the day of dueDateTime, at midnight.
  return { dateTime: `${o.dateTime.slice(0, 10)}T00:00:00.0000000`, timeZone: typeof o.timeZone === 'string' ? o.timeZone : 'UTC' };
}

function apply(t: Task, body: Record<string, unknown>, nowMs: number): void {
  if ('title' in body) t.title = String(body.title ?? '');
  if ('status' in body) {
    if (!STATUSES.includes(String(body.status))) throw graphErrors.badBody(`The value '${body.status}' is not valid for property 'status'.`);
    t.status = String(body.status);
    t.completedDateTime = t.status === 'completed' ? { dateTime: iso(nowMs).replace('Z', ''), timeZone: 'UTC' } : null;
  }
  if ('importance' in body) t.importance = String(body.importance);
  if ('body' in body) {
    const b = body.body as { content?: string; contentType?: string } | null;
    t.body = { content: b?.content ?? '', contentType: b?.contentType ?? 'text' };
  }
  if ('dueDateTime' in body) t.dueDateTime = dateTimeTimeZone(body.dueDateTime);
  if ('categories' in body) t.categories = Array.isArray(body.categories) ? body.categories.map(String) : [];
  t.modifiedMs = nowMs;
  t.etag = newChangeKey();
}

function changed(call: Call, t: Task, changeType: 'created' | 'updated' | 'deleted'): void {
  call.s.changed({ userId: call.user.id, container: t.listId, kind: 'todoTask', immutableId: t.id, restId: t.id, changeType, etag: `W/"${t.etag}"` });
}

export function findTask(call: Call, listId: string, taskId: string): Task {
  const t = call.s.mail.tasks.get(taskId);
  if (!t || t.listId !== listOf(call, listId).id) throw graphErrors.notFound();
  return t;
}

export const todo = {
  lists(call: Call) {
    need(call, ...READ);
    if (!call.token.userId) throw graphErrors.accessDenied();
    return { status: 200, body: { value: [...call.s.mail.lists.values()].filter((l) => l.userId === call.user.id).map(renderList) } };
  },
  tasks(call: Call, listId: string) {
    need(call, ...READ);
    const l = listOf(call, listId);
    return { status: 200, body: { value: [...call.s.mail.tasks.values()].filter((t) => t.listId === l.id).map(renderTask) } };
  },
  get(call: Call, listId: string, taskId: string) {
    need(call, ...READ);
    return { status: 200, body: renderTask(findTask(call, listId, taskId)) };
  },
  create(call: Call, listId: string) {
    need(call, ...WRITE);
    const l = listOf(call, listId);
    const now = call.s.clock.now();
    const t: Task = { id: `AAMkA${randomBytes(40).toString('base64url')}=`, listId: l.id, title: '', status: 'notStarted', importance: 'normal', body: { content: '', contentType: 'text' }, dueDateTime: null, completedDateTime: null, categories: [], createdMs: now, modifiedMs: now, etag: newChangeKey() };
    apply(t, call.body(), now);
    call.s.mail.tasks.set(t.id, t);
    changed(call, t, 'created');
    return { status: 201, body: renderTask(t) };
  },
  update(call: Call, listId: string, taskId: string) {
    need(call, ...WRITE);
    const t = findTask(call, listId, taskId);
    const ifMatch = call.headers['if-match'];
    if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch.replace(/^W\//, '').replace(/"/g, '') !== t.etag)
      throw new GraphError(412, 'PreconditionFailed', 'The operation could not be performed because the ETag does not match.');
    apply(t, call.body(), call.s.clock.now());
    changed(call, t, 'updated');
    return { status: 200, body: renderTask(t) };
  },
  remove(call: Call, listId: string, taskId: string) {
    need(call, ...WRITE);
    const t = findTask(call, listId, taskId);
    call.s.mail.tasks.delete(t.id);
    changed(call, t, 'deleted');
    return { status: 204 };
  },
};
