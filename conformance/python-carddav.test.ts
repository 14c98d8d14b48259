import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServer } from '../src/testing/harness.ts'
import { assertReported, counts, run } from './run.ts'

// python3 (Debian's own, stdlib only: no CardDAV library is packaged)
// against a fresh server: discovery from /.well-known/carddav, vCard 3.0/4.0
// negotiation, addressbook-query, multiget, sync-collection, refusals. The
// checks live in python_carddav_check.py, which prints one
// `PASS|FAIL <name>: <detail>` line each and its own `N passed, N failed`.

const CHECKS = [
  'discovery', 'supported-address-data', 'put-v3', 'get-as-stored', 'get-v4-by-accept', 'multiget-v3-of-a-v4-card',
  'query-text-match', 'query-unicode-casemap', 'query-is-not-defined', 'sync-initial', 'sync-changes-only', 'sync-nothing-new',
  'bad-vcard-refused', 'company-read-only'
]

// Checks that fail because of a server bug: name → the bug.
const KNOWN_BUGS: Record<string, string> = {}

const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())

const script = fileURLToPath(new URL('./python_carddav_check.py', import.meta.url))
const r = await run('/usr/bin/python3', [script, s.url, 'alice', s.password], { timeoutMs: 120_000 })
if (r.stderr.trim() !== '') t.comment(`python3 stderr:\n${r.stderr.trim()}`)
t.equal(r.timedOut, false, 'the python3 checks finished in time')

assertReported(t, r.stdout, CHECKS, KNOWN_BUGS)

const summary = counts(r.stdout)
t.equal(summary.length, 1, 'one summary line')
if (summary[0] !== undefined) {
  t.comment(`python3 CardDAV: ${summary[0].line}`)
  t.equal(summary[0].passed + summary[0].failed, CHECKS.length, 'the summary counts every check')
  t.equal(summary[0].failed, 0, 'nothing failed')
}
t.equal(r.code, summary[0]?.failed === 0 ? 0 : 1, 'exit status matches the summary')
