import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { Config } from '../config.ts'
import type { DbTarget } from '../db/connect.ts'

/**
 * The key that seals stored secrets. Production must set KALENDS_SECRET_KEY
 * (config refuses to start without it); a development or embedded server
 * keeps a generated key in its data folder, readable by its owner only, so
 * tokens stored yesterday still open today. An in-memory database gets a key
 * that lives as long as it does.
 */
export function secretKeyFor (config: Config, target: DbTarget): Buffer {
  if (config.secretKey !== null) return config.secretKey
  if ('memory' in target) return randomBytes(32)
  const file = `${config.dataDir}/secret.key`
  if (existsSync(file)) return readKey(file)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  // Written whole under a name of its own, then linked into place: processes
  // starting together in one folder all end with the one key that won the
  // link, never a half-written file or an EEXIST.
  const key = randomBytes(32)
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`
  writeFileSync(draft, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(draft, 0o600)
  try {
    linkSync(draft, file)
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return readKey(file)
  } finally {
    unlinkSync(draft)
  }
}

function readKey (file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  if (key.length === 32) return key
  throw new Error(`${file} does not hold a 32-byte base64 key; restore it or set KALENDS_SECRET_KEY`)
}
