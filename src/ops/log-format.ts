/**
 * Log lines for people and for machines. `serve` and `worker` log the same
 * way: pino's JSON lines and numeric levels (fastify's logger) for log
 * collectors, or, when stdout is a terminal (or KALENDS_LOG_FORMAT=pretty),
 * one readable line per entry in the style of pino-pretty:
 *
 *   12:04:05.120 INFO  Kalends is listening  database=pglite publicUrl=http://127.0.0.1:8080
 *   12:04:07.031 INFO  GET /week → 200 in 4.1 ms  req=5f0c…
 *
 * KALENDS_LOG_FORMAT=json keeps JSON on a terminal.
 */
export type LogFormat = 'pretty' | 'json'

export const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }
const NAMES: Record<number, string> = Object.fromEntries(Object.entries(LEVELS).map(([name, n]) => [n, name.toUpperCase()]))
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }

export class LogFormatError extends Error {}

export function logFormat (setting: string | undefined, isTTY: boolean): LogFormat {
  if (setting === undefined || setting === '') return isTTY ? 'pretty' : 'json'
  if (setting === 'pretty' || setting === 'json') return setting
  throw new LogFormatError(`KALENDS_LOG_FORMAT must be pretty or json, got "${setting}"`)
}

/** Fields pino and fastify add that the readable line shows in its own way, or not at all. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime', 'err'])

const value = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return /[\s"=]/.test(s) && typeof v === 'string' ? JSON.stringify(s) : s
}

/** One JSON log line as a person reads it; a line that is not JSON passes unchanged. */
export function prettyLine (json: string, colour = false): string {
  let e: Record<string, unknown>
  try { e = JSON.parse(json) as Record<string, unknown> } catch { return json.endsWith('\n') ? json : `${json}\n` }
  const level = typeof e.level === 'number' ? e.level : LEVELS[String(e.level)] ?? 30
  const time = new Date(typeof e.time === 'number' ? e.time : Date.now()).toISOString().slice(11, 23)
  const name = (NAMES[level] ?? String(level)).padEnd(5)
  const req = e.req as { method?: string; url?: string } | undefined
  const res = e.res as { statusCode?: number } | undefined
  let msg = typeof e.msg === 'string' ? e.msg : ''
  if (req?.method !== undefined && msg === 'incoming request') msg = `${req.method} ${req.url ?? ''}`
  else if (res?.statusCode !== undefined && msg === 'request completed') msg = `→ ${res.statusCode} in ${typeof e.responseTime === 'number' ? e.responseTime.toFixed(1) : '?'} ms`
  const fields = Object.entries(e).filter(([k]) => !SHOWN.has(k)).map(([k, v]) => `${k}=${value(v)}`)
  if (typeof e.reqId === 'string') fields.push(`req=${e.reqId.slice(0, 8)}`)
  const err = e.err as { stack?: string; message?: string } | undefined
  const tail = err === undefined ? '' : `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}`
  const head = colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name
  return `${time} ${head} ${msg}${fields.length === 0 ? '' : `  ${fields.join(' ')}`}${tail}\n`
}

type Out = { write (line: string): unknown }

/** Where pino writes: straight through for JSON, through prettyLine for people. */
export function logStream (format: LogFormat, out: Out & { isTTY?: boolean }): { write (line: string): void } {
  if (format === 'json') return { write: line => { out.write(line) } }
  const colour = out.isTTY === true && process.env.NO_COLOR === undefined
  return { write: chunk => { for (const line of chunk.split('\n')) if (line !== '') out.write(prettyLine(line, colour)) } }
}

/** A small logger with pino's levels and line shape, for processes without fastify (the sync worker). */
export function lineLogger (level: string, stream: { write (line: string): void }) {
  const min = LEVELS[level] ?? (level === 'silent' ? Infinity : 30)
  const log = (n: number) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (n >= min) stream.write(`${JSON.stringify({ level: n, time: Date.now(), pid: process.pid, msg, ...fields })}\n`)
  }
  return { debug: log(20), info: log(30), warn: log(40), error: log(50) }
}
