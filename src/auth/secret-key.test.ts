import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig } from '../config.ts'
import { secretKeyFor } from './secret-key.ts'

const config = (dataDir: string) => ({ ...readConfig({ KALENDS_DATA_DIR: dataDir }), secretKey: null })

t.test('a generated key is kept in the data folder, owner-only, and read back the next time', async t => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kalends-key-')), 'data')
  const first = secretKeyFor(config(dir), { dataDir: dir })
  t.equal(first.length, 32)
  t.same(secretKeyFor(config(dir), { dataDir: dir }), first)
  t.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600)
  t.same(readdirSync(dir), ['secret.key'], 'no draft left behind')
})

t.test('processes starting together in one empty folder all get the same key', async t => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kalends-key-')), 'data')
  // every process waits for one moment before it looks, so they look together
  const at = Date.now() + 3_000
  const script = `import { readConfig } from './src/config.ts'; import { secretKeyFor } from './src/auth/secret-key.ts';
    const c = { ...readConfig({ KALENDS_DATA_DIR: ${JSON.stringify(dir)} }), secretKey: null };
    while (Date.now() < ${at});
    process.stdout.write(secretKeyFor(c, { dataDir: ${JSON.stringify(dir)} }).toString('base64'))`
  const run = () => new Promise<{ code: number | null; out: string; err: string }>(resolve => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..') })
    let out = ''; let err = ''
    p.stdout.on('data', d => { out += d }); p.stderr.on('data', d => { err += d })
    p.on('close', code => resolve({ code, out, err }))
  })
  const results = await Promise.all(Array.from({ length: 8 }, run))
  for (const r of results) t.equal(r.code, 0, r.err)
  const stored = readFileSync(join(dir, 'secret.key'), 'utf8').trim()
  t.same(new Set(results.map(r => r.out)), new Set([stored]), 'every process holds the stored key')
  t.same(readdirSync(dir), ['secret.key'])
})
