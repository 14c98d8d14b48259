import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../testing/harness.ts'

/**
 * The embedded database's files belong to the server's user alone: started
 * under the loosest umask (000), a server leaves nothing under its data
 * folder that its group or other local users may read, write or enter.
 */

const LAUNCHER = fileURLToPath(new URL('../../bin/kalends', import.meta.url))

/** `kalends serve` on dataDir under umask 000, until it listens; stop() sends SIGTERM and waits for the exit. */
async function serveLoose (t: Test, dataDir: string) {
  const port = await freePort()
  const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" serve', LAUNCHER], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), KALENDS_DATA_DIR: dataDir, KALENDS_ADMIN_PASSWORD: 'admin-password-1', KALENDS_SYNC_WORKERS: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', c => { out += c })
  child.stderr.on('data', c => { out += c })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let gone = false
  void exited.then(() => { gone = true })
  while (!/Kalends is listening/.test(out)) {
    if (gone) throw new Error(`serve exited before listening:\n${out}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, stop: () => { child.kill('SIGTERM'); return exited } }
}

/** Every path under dir (dir included) whose mode grants its group or others anything, with that mode. */
function openToOthers (dir: string): string[] {
  const found: string[] = []
  const walk = (path: string) => {
    const stat = lstatSync(path)
    if (stat.isSymbolicLink()) return
    if ((stat.mode & 0o077) !== 0) found.push(`${path.slice(dir.length) || '/'} ${(stat.mode & 0o777).toString(8)}`)
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name))
  }
  walk(dir)
  return found
}

/** Writes through the API, so PGlite writes relation and WAL files beyond what initdb made. */
async function write (url: string) {
  const res = await fetch(`${url}/api/v1/calendars`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('admin:admin-password-1').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Private' })
  })
  return res.status
}

t.test('a new data folder: 0700, and no file in it open to others, under umask 000', async t => {
  const root = mkdtempSync(join(tmpdir(), 'kalends-mode-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dataDir = join(root, 'data')
  const server = await serveLoose(t, dataDir)
  t.equal(await write(server.url), 201, 'a calendar is written')
  t.equal(await server.stop(), 0, 'the server stops cleanly')
  t.equal(statSync(dataDir).mode & 0o777, 0o700, 'the folder is 0700')
  t.ok(readdirSync(join(dataDir, 'pg')).length > 0, 'the database is there')
  t.same(openToOthers(dataDir), [], 'nothing under it grants group or other access')
})

t.test('a data folder left open by an earlier version is closed down, with a warning', async t => {
  const root = mkdtempSync(join(tmpdir(), 'kalends-mode-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dataDir = join(root, 'data')
  mkdirSync(join(dataDir, 'old'), { recursive: true })
  writeFileSync(join(dataDir, 'old', 'file'), 'written before', { mode: 0o666 })
  for (const path of [dataDir, join(dataDir, 'old')]) chmodSync(path, 0o777)
  chmodSync(join(dataDir, 'old', 'file'), 0o666)

  const server = await serveLoose(t, dataDir)
  t.equal(await write(server.url), 201)
  t.equal(await server.stop(), 0)
  t.same(openToOthers(dataDir), [], 'nothing under it grants group or other access any more')
  const warning = server.output().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { level: number; msg: string }).find(l => /data folder/.test(l.msg))
  t.match(warning, { level: 40, msg: /was open to other local users \(mode 0777\): it is now 0700/ }, 'the server logs what it changed')
})
