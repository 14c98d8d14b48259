import t from 'tap'
import { lineLogger, logFormat, LogFormatError, logStream, prettyLine } from './log-format.ts'

t.test('the format: readable on a terminal, JSON otherwise, or as set', async t => {
  t.equal(logFormat(undefined, true), 'pretty')
  t.equal(logFormat(undefined, false), 'json')
  t.equal(logFormat('', false), 'json')
  t.equal(logFormat('json', true), 'json')
  t.equal(logFormat('pretty', false), 'pretty')
  t.throws(() => logFormat('fancy', true), /must be pretty or json, got "fancy"/)
  t.ok((() => { try { logFormat('fancy', true) } catch (err) { return err instanceof LogFormatError } })(), 'a LogFormatError, which the CLI reports as a configuration error')
})

t.test('a readable line: time, level, message, fields; requests and errors their own way', async t => {
  const time = Date.UTC(2026, 11, 7, 9, 4, 5, 120)
  t.equal(prettyLine(JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', msg: 'Kalends is listening', database: 'pglite', publicUrl: 'http://127.0.0.1:8080' })),
    '09:04:05.120 INFO  Kalends is listening  database=pglite publicUrl=http://127.0.0.1:8080\n')
  t.equal(prettyLine(JSON.stringify({ level: 30, time, reqId: '5f0c1234-abcd', req: { method: 'GET', url: '/week' }, msg: 'incoming request' })),
    '09:04:05.120 INFO  GET /week  req=5f0c1234\n')
  t.equal(prettyLine(JSON.stringify({ level: 30, time, reqId: '5f0c1234-abcd', res: { statusCode: 200 }, responseTime: 4.123, msg: 'request completed' })),
    '09:04:05.120 INFO  → 200 in 4.1 ms  req=5f0c1234\n')
  t.equal(prettyLine(JSON.stringify({ level: 50, time, msg: 'page failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } })),
    '09:04:05.120 ERROR page failed\n    Error: boom\n        at x\n')
  t.equal(prettyLine(JSON.stringify({ level: 40, time, msg: 'm', note: 'two words' })), '09:04:05.120 WARN  m  note="two words"\n')
  t.equal(prettyLine('not json'), 'not json\n', 'anything else passes unchanged')
  t.match(prettyLine(JSON.stringify({ level: 50, time, msg: 'x' }), true), /\x1b\[31mERROR\x1b\[0m/, 'coloured on a terminal')
})

t.test('the worker logs with the server\'s levels and shape, at the configured level', async t => {
  const lines: string[] = []
  const log = lineLogger('warn', { write: l => { lines.push(l) } })
  log.info('quiet')
  log.warn('heard', { connection: 3 })
  t.equal(lines.length, 1, 'below the level: nothing')
  t.match(JSON.parse(lines[0]!), { level: 40, msg: 'heard', connection: 3, pid: process.pid })
  const pretty: string[] = []
  const out = logStream('pretty', { write: (l: string) => pretty.push(l) })
  lineLogger('info', out).info('sync worker started', { concurrency: 2 })
  t.match(pretty[0], /^\d\d:\d\d:\d\d\.\d{3} INFO  sync worker started {2}concurrency=2\n$/)
})
