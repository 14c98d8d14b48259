import type { Db } from '../db/connect.ts'
import type { ItemKind, User } from '../db/schema.ts'
import { invalid } from './errors.ts'

export async function caseInOrg (tx: Db, actor: User, caseId: unknown, field: string): Promise<number> {
  if (!Number.isInteger(caseId)) throw invalid(field, 'must be a case id')
  const row = await tx.selectFrom('cases').select('id').where('id', '=', caseId as number).where('org_id', '=', actor.org_id).executeTakeFirst()
  if (row === undefined) throw invalid(field, `no case ${String(caseId)} in your organisation`)
  return row.id
}

export async function typeInOrg (tx: Db, actor: User, typeId: unknown, kind: ItemKind, field: string): Promise<number> {
  if (!Number.isInteger(typeId)) throw invalid(field, 'must be a type id')
  const row = await tx.selectFrom('item_types').select('id').where('id', '=', typeId as number)
    .where('org_id', '=', actor.org_id).where('applies_to', '=', kind).executeTakeFirst()
  if (row === undefined) throw invalid(field, `no ${kind} type ${String(typeId)} in your organisation`)
  return row.id
}
