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
