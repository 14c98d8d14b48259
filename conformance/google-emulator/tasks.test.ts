// Tasks v1 through the real googleapis client: lists, task CRUD, due as a
// date, completion, tombstones, updatedMin/showDeleted/showHidden polling.
import t from 'tap';
import { failure, setup } from './test-helpers.ts';

t.test('task lists: default list, @default alias, insert', async (t) => {
  const { g, tasks } = await setup();
  t.teardown(() => g.close());
  const lists = (await tasks.tasklists.list()).data;
  t.equal(lists.kind, 'tasks#taskLists');
  t.equal(lists.items!.length, 1);
  const def = lists.items![0]!;
  t.equal(def.kind, 'tasks#taskList');
  t.equal(def.title, 'My Tasks');
  t.match(def.id, /^[A-Za-z0-9_-]{20,}$/);
  t.equal((await tasks.tasklists.get({ tasklist: '@default' })).data.id, def.id);
  const work = (await tasks.tasklists.insert({ requestBody: { title: 'Work' } })).data;
  t.equal(work.title, 'Work');
  t.equal((await tasks.tasklists.list()).data.items!.length, 2);
  t.equal((await failure(tasks.tasklists.get({ tasklist: 'nope' }))).status, 404);
  const renamed = (await tasks.tasklists.patch({ tasklist: work.id!, requestBody: { title: 'CRM' } })).data;
  t.equal(renamed.title, 'CRM');
  t.not(renamed.etag, work.etag);
  t.equal((await tasks.tasklists.delete({ tasklist: work.id! })).status, 204);
  t.equal((await failure(tasks.tasks.list({ tasklist: work.id! }))).status, 404);
  t.equal((await failure(tasks.tasklists.delete({ tasklist: '@default' }))).status, 400, 'the default list stays');
});

t.test('tasks: insert/get/update/patch/delete, due is a date, completion', async (t) => {
  const { g, tasks } = await setup();
  t.teardown(() => g.close());
  const task = (await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: 'Call back', notes: 'n', due: '2026-12-01T17:30:00.000Z' } })).data;
  t.equal(task.kind, 'tasks#task');
  t.equal(task.status, 'needsAction');
  t.equal(task.due, '2026-12-01T00:00:00.000Z', 'the time part of due is dropped');
  t.match(task.position, /^\d{20}$/);
  t.match(task.updated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  t.match(task.etag, /^".+"$/);
  t.same((await tasks.tasks.get({ tasklist: '@default', task: task.id! })).data, task);
  const done = (await tasks.tasks.patch({ tasklist: '@default', task: task.id!, requestBody: { status: 'completed' } })).data;
  t.equal(done.status, 'completed');
  t.ok(done.completed);
  t.equal(done.notes, 'n');
  t.not(done.etag, task.etag);
  const reopened = (await tasks.tasks.update({ tasklist: '@default', task: task.id!, requestBody: { id: task.id, title: 'Call back', status: 'needsAction' } })).data;
  t.notOk(reopened.completed, 'reopening clears completed');
  t.notOk(reopened.due, 'update replaces the whole resource');
  const second = (await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: 'second' } })).data;
  t.ok(second.position! < task.position!, 'a new task goes to the top');
  const after = (await tasks.tasks.insert({ tasklist: '@default', previous: second.id!, requestBody: { title: 'between' } })).data;
  t.ok(after.position! > second.position! && after.position! < task.position!);
  const child = (await tasks.tasks.insert({ tasklist: '@default', parent: task.id!, requestBody: { title: 'sub' } })).data;
  t.equal(child.parent, task.id);
  const listed = (await tasks.tasks.list({ tasklist: '@default' })).data.items!.map((x) => x.title);
  t.same(listed, ['second', 'between', 'Call back', 'sub']);
  const moved = (await tasks.tasks.move({ tasklist: '@default', task: second.id!, previous: task.id! })).data;
  t.ok(moved.position! > task.position!);

  t.equal((await tasks.tasks.delete({ tasklist: '@default', task: task.id! })).status, 204);
  const gone = (await tasks.tasks.list({ tasklist: '@default' })).data.items!.map((x) => x.title);
  t.same(gone, ['between', 'second'], 'deleting a parent deletes its subtasks');
  const withDeleted = (await tasks.tasks.list({ tasklist: '@default', showDeleted: true })).data.items!;
  t.same(withDeleted.filter((x) => x.deleted).map((x) => x.title).sort(), ['Call back', 'sub']);
  t.equal((await failure(tasks.tasks.get({ tasklist: '@default', task: 'nope' }))).status, 404);
  const revived = (await tasks.tasks.update({ tasklist: '@default', task: task.id!, requestBody: { id: task.id, title: 'again', deleted: false } })).data;
  t.equal(revived.deleted, true, 'a deleted task stays deleted');
});

t.test('polling: updatedMin, showDeleted, showHidden after clear, showCompleted, due range, paging', async (t) => {
  const { g, tasks } = await setup();
  t.teardown(() => g.close());
  const a = (await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: 'a', due: '2026-12-01T00:00:00Z' } })).data;
  const b = (await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: 'b', due: '2026-12-05T00:00:00Z' } })).data;
  const cursor = new Date(Date.parse(b.updated!) + 1).toISOString();
  await new Promise((r) => setTimeout(r, 5));
  await tasks.tasks.delete({ tasklist: '@default', task: a.id! });
  await tasks.tasks.patch({ tasklist: '@default', task: b.id!, requestBody: { status: 'completed' } });
  const changed = (await tasks.tasks.list({ tasklist: '@default', updatedMin: cursor, showDeleted: true, showHidden: true })).data.items!;
  t.same(changed.map((x) => [x.title, x.deleted ?? false, x.status]).sort(), [
    ['a', true, 'needsAction'],
    ['b', false, 'completed'],
  ]);
  t.same((await tasks.tasks.list({ tasklist: '@default', updatedMin: cursor })).data.items!.map((x) => x.title), ['b'], 'deleted ones need showDeleted');
  t.notOk((await tasks.tasks.list({ tasklist: '@default', showCompleted: false })).data.items, 'no items field when nothing matches');
  await tasks.tasks.clear({ tasklist: '@default' });
  t.notOk((await tasks.tasks.list({ tasklist: '@default' })).data.items, 'cleared tasks are hidden');
  const hidden = (await tasks.tasks.list({ tasklist: '@default', showHidden: true })).data.items!;
  t.same(hidden.map((x) => [x.title, x.hidden]), [['b', true]]);
  const due = (await tasks.tasks.list({ tasklist: '@default', showHidden: true, showDeleted: true, dueMin: '2026-12-02T00:00:00Z', dueMax: '2026-12-31T00:00:00Z' })).data.items!;
  t.same(due.map((x) => x.title), ['b']);

  for (let i = 0; i < 25; i++) await tasks.tasks.insert({ tasklist: '@default', requestBody: { title: `t${i}` } });
  const page1 = (await tasks.tasks.list({ tasklist: '@default' })).data;
  t.equal(page1.items!.length, 20, 'default page size 20');
  const page2 = (await tasks.tasks.list({ tasklist: '@default', pageToken: page1.nextPageToken! })).data;
  t.equal(page2.items!.length, 5);
  t.notOk(page2.nextPageToken);
  t.equal((await tasks.tasks.list({ tasklist: '@default', maxResults: 500 })).data.items!.length, 25, 'maxResults is capped at 100');
});
