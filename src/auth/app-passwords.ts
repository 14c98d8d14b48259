import { randomBytes } from 'node:crypto'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import type { Actor } from '../domain/actor.ts'
import { notFound } from '../domain/errors.ts'
import { record } from '../domain/journal.ts'
import { text } from '../domain/values.ts'
import { hashPassword } from './passwords.ts'

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789' // no 0/o, 1/l/i: typed on phones

/** 32 characters from a 31-letter alphabet: 158 bits, in groups of four for typing. */
export function generateAppPassword (): string {
  const chars: string[] = []
  while (chars.length < 32) {
    for (const b of randomBytes(48)) {
      // rejection sampling keeps every letter equally likely
      if (b < ALPHABET.length * 8 && chars.length < 32) chars.push(ALPHABET[b % ALPHABET.length]!)
    }
  }
  return chars.join('').match(/.{4}/g)!.join('-')
}

export const APP_PASSWORD = /^([a-z2-9]{4})(-[a-z2-9]{4}){7}$/

export function looksLikeAppPassword (secret: string): boolean {
  return APP_PASSWORD.test(secret)
}

export async function createAppPassword (db: Db, actor: Actor, name: unknown): Promise<{ id: number; name: string; password: string }> {
  const label = text('name', name, { max: 100, required: true })
  const password = generateAppPassword()
  const hash = await hashPassword(password)
  return db.transaction().execute(async tx => {
    const row = await tx.insertInto('app_passwords').values({ user_id: actor.user.id, name: label, prefix: password.slice(0, 4), secret_hash: hash })
      .returning(['id', 'name']).executeTakeFirstOrThrow()
    await record(tx, [{ org_id: actor.user.org_id, entity: 'app_password', entity_id: row.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }])
    return { ...row, password }
  })
}

export async function listAppPasswords (db: Db, user: User) {
  return db.selectFrom('app_passwords').select(['id', 'name', 'created_at', 'last_used_at', 'last_used_ip', 'revoked_at'])
    .where('user_id', '=', user.id).orderBy('id').execute()
}

export async function revokeAppPassword (db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction().execute(async tx => {
    const row = await tx.updateTable('app_passwords').set({ revoked_at: new Date() })
      .where('id', '=', id).where('user_id', '=', actor.user.id).where('revoked_at', 'is', null).returning('id').executeTakeFirst()
    if (row === undefined) throw notFound('app password')
    await record(tx, [{ org_id: actor.user.org_id, entity: 'app_password', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
  })
}
