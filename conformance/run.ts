import type { Test } from 'tap'
import { spawn } from 'node:child_process'

/** What a client run printed, and how it ended. */
export type Run = { code: number | null; signal: string | null; timedOut: boolean; stdout: string; stderr: string }

/**
 * Runs a conformance client as a child process, without a shell. The run is
 * killed (its whole process group) after timeoutMs; `input` goes to stdin,
 * which is closed afterwards so a client that asks a question sees EOF.
 */
export function run (cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => {
      timedOut = true
      try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ }
    }, opts.timeoutMs)
    child.on('error', err => { clearTimeout(timer); reject(err) })
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, timedOut, stdout, stderr }) })
    child.stdin.end(opts.input ?? '')
  })
}

/** Every `N passed, N failed` line a client printed, in order. */
export function counts (output: string): { line: string; passed: number; failed: number }[] {
  return [...output.matchAll(/^.*?\b(\d+) passed, (\d+) failed.*$/gm)].map(m => ({ line: m[0].trim(), passed: Number(m[1]), failed: Number(m[2]) }))
}

/**
 * Checks a test counts itself, for clients that print no `N passed, N
 * failed` of their own: each is an assertion (a known server bug stays a
 * visible todo), and `line()` is the summary to print.
 */
export function checkCounter (t: Test, knownBugs: Record<string, string>) {
  let passed = 0
  let failed = 0
  function check (name: string, ok: boolean, detail: string) {
    if (ok) passed++
    else failed++
    const todo = knownBugs[name]
    t.ok(ok, `${name}: ${detail}`, todo === undefined ? {} : { todo })
  }
  const same = (name: string, got: unknown, want: unknown) => check(name, JSON.stringify(got) === JSON.stringify(want), `${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  return { check, same, line: () => `${passed} passed, ${failed} failed` }
}

/** vdirsyncer with a config, answering its questions with yes; what it printed, and its complaints. */
export async function vdirsyncerRun (t: Test, config: string, dir: string, args: string[]) {
  const r = await run('vdirsyncer', ['--config', config, ...args], { cwd: dir, input: 'y\n'.repeat(10), timeoutMs: 60_000 })
  const out = (r.stdout + r.stderr).trim()
  t.comment(`vdirsyncer ${args.join(' ')}:\n${out}`)
  // vdirsyncer 0.19 warns "Deleting an item with no etag." when it HAS one (storage/dav.py: `if etag:`) and sends If-Match; not a server matter
  const complaints = out.split('\n').filter(l => /^(error|critical|warning):/i.test(l) && l !== 'warning: Deleting an item with no etag.')
  return { ...r, out, complaints }
}

/**
 * A check script's `PASS|FAIL <name>: <detail>` lines asserted one by one
 * against the checks the test expects (a known server bug stays a todo), and
 * none it does not know.
 */
export function assertReported (t: Test, stdout: string, checks: string[], knownBugs: Record<string, string>) {
  const reported = new Map<string, { ok: boolean; detail: string }>()
  for (const m of stdout.matchAll(/^(PASS|FAIL) ([\w-]+): (.*)$/gm)) reported.set(m[2]!, { ok: m[1] === 'PASS', detail: m[3]! })
  for (const name of checks) {
    const got = reported.get(name)
    const todo = knownBugs[name]
    t.ok(got?.ok === true, `${name}: ${got?.detail ?? 'not reported by the script'}`, todo === undefined ? {} : { todo })
  }
  t.same([...reported.keys()].filter(n => !checks.includes(n)), [], 'the script reports no check this test does not know')
  return reported
}
