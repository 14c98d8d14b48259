import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import type { Actor } from '../domain/actor.ts'
import { notFound } from '../domain/errors.ts'
import { record } from '../domain/journal.ts'
import { text } from '../domain/values.ts'

// 256 random bits: a fast hash is enough to store them, and lets every request look one up by index.
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

export async function createApiToken (db: Db, actor: Actor, name: unknown): Promise<{ id: number; name: string; token: string }> {
  const label = text('name', name, { max: 100, required: true })
  const token = `kal_${randomBytes(32).toString('base64url')}`
  return db.transaction().execute(async tx => {
    const row = await tx.insertInto('api_tokens').values({ user_id: actor.user.id, name: label, token_sha256: sha256(token) }).returning(['id', 'name']).executeTakeFirstOrThrow()
    await record(tx, [{ org_id: actor.user.org_id, entity: 'api_token', entity_id: row.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }])
    return { ...row, token }
  })
}

export async function userForApiToken (db: Db, token: string): Promise<User | null> {
  const row = await db.selectFrom('api_tokens').innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('users').select('api_tokens.id as token_id')
    .where('token_sha256', '=', sha256(token)).where('api_tokens.revoked_at', 'is', null).executeTakeFirst()
  if (row === undefined || row.disabled) return null
  const { token_id: tokenId, ...user } = row
  await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', tokenId).execute()
  return user
}

export async function listApiTokens (db: Db, user: User) {
  return db.selectFrom('api_tokens').select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at']).where('user_id', '=', user.id).orderBy('id').execute()
}

export async function revokeApiToken (db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction().execute(async tx => {
    const row = await tx.updateTable('api_tokens').set({ revoked_at: new Date() }).where('id', '=', id).where('user_id', '=', actor.user.id)
      .where('revoked_at', 'is', null).returning('id').executeTakeFirst()
    if (row === undefined) throw notFound('API token')
    await record(tx, [{ org_id: actor.user.org_id, entity: 'api_token', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
  })
}
