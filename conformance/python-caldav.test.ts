import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServer } from '../src/testing/harness.ts'
import { assertReported, counts, run } from './run.ts'

// python3-caldav 0.11 (Debian package) against a fresh server: discovery from
// the bare address, the calendars (listed, made, renamed, deleted), events of
// each kind (recurring with an EXDATE, with a moved instance, across a DST
// switch, without end; all-day; time-zoned), tasks, time-range and text
// search, server-side expand, sync tokens, free-busy, a second user kept out,
// the company calendar read-only for a plain user,
// and UID uniqueness as RFC 4791 §5.3.2.1 scopes it. The checks live in
// python_caldav_check.py, which prints one `PASS|FAIL <name>: <detail>` line
// each and its own `N passed, N failed`. /usr/bin/python3 on purpose: a pyenv
// python3 on PATH may not see the Debian caldav module.

const CHECKS = [
  'discovery', 'calendar-home', 'list-calendars', 'task-list', 'make-calendar', 'rename-calendar', 'delete-calendar',
  'create-simple', 'create-weekly', 'create-allday', 'create-warsaw', 'create-transparent', 'create-cancelled', 'create-moved', 'create-dst', 'create-endless',
  'create-task', 'task-pending', 'task-completed', 'search-todo-range',
  'search-range', 'expand-weekly', 'expand-no-rules', 'expand-utc', 'search-timezone', 'search-allday', 'search-text', 'expand-dst', 'search-no-end', 'search-override', 'expand-override',
  'free-busy', 'other-user-denied', 'company-read-only',
  'sync-initial', 'sync-changes-only', 'sync-nothing-new',
  'uid-conflict-same-calendar', 'same-uid-other-user', 'utf8-href'
]

// Checks that fail because of a server bug: name → the bug. Each stays a
// visible todo until the server is fixed; then the entry goes.
const KNOWN_BUGS: Record<string, string> = {}

const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())

const script = fileURLToPath(new URL('./python_caldav_check.py', import.meta.url))
const r = await run('/usr/bin/python3', [script, s.url, 'alice', 'bob', s.password], { timeoutMs: 240_000 })
if (r.stderr.trim() !== '') t.comment(`python3 stderr:\n${r.stderr.trim()}`)
t.equal(r.timedOut, false, 'python3-caldav finished in time')

const reported = assertReported(t, r.stdout, CHECKS, KNOWN_BUGS)

const summary = counts(r.stdout)
t.equal(summary.length, 1, 'python3-caldav printed one summary line')
if (summary[0] !== undefined) {
  t.comment(`python3-caldav: ${summary[0].line}`)
  t.equal(summary[0].passed + summary[0].failed, CHECKS.length, 'the summary counts every check')
  t.equal(summary[0].failed, CHECKS.filter(n => KNOWN_BUGS[n] !== undefined && reported.get(n)?.ok !== true).length, 'failed only where a known server bug is recorded')
}
t.equal(r.code, summary[0]?.failed === 0 ? 0 : 1, 'exit status matches the summary')
