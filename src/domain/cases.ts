import type { Db } from '../db/connect.ts'
import type { Case, ItemKind, User } from '../db/schema.ts'
import type { Actor } from './actor.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { record } from './journal.ts'
import { requireAdmin } from './access.ts'
import { getOrg } from './orgs.ts'
import { checkCaseRename } from './rules.ts'
import { text } from './values.ts'

export type CaseInput = { title?: string; kind?: 'matter' | 'project' | 'client' }
const KINDS = ['matter', 'project', 'client']

function checkKind (kind: unknown) {
  if (kind !== undefined && !KINDS.includes(kind as string)) throw invalid('kind', `must be one of ${KINDS.join(', ')}`)
}

export async function createCase (db: Db, actor: Actor, input: CaseInput): Promise<Case> {
  const title = text('title', input.title, { max: 500, required: true })
  checkKind(input.kind)
  return db.transaction().execute(async tx => {
    const row = await tx.insertInto('cases').values({ org_id: actor.user.org_id, title, kind: input.kind ?? 'matter' }).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: row.org_id, entity: 'case', entity_id: row.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }])
    return row
  })
}

export async function getCase (db: Db, actor: User, id: number): Promise<Case> {
  const row = await db.selectFrom('cases').selectAll().where('id', '=', id).where('org_id', '=', actor.org_id).executeTakeFirst()
  if (row === undefined) throw notFound('case')
  return row
}

export async function updateCase (db: Db, actor: Actor, id: number, input: CaseInput): Promise<Case> {
  if (input.title !== undefined) text('title', input.title, { max: 500, required: true })
  checkKind(input.kind)
  return db.transaction().execute(async tx => {
    const before = await getCase(tx, actor.user, id)
    if (input.title !== undefined) checkCaseRename(actor.user, before, input.title, (await getOrg(tx, actor.user)).usersMayRenameCases)
    const row = await tx.updateTable('cases').set({ title: input.title ?? before.title, kind: input.kind ?? before.kind, updated_at: new Date() })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: row.org_id, entity: 'case', entity_id: id, op: 'update', origin: actor.origin, actor_id: actor.user.id }])
    return row
  })
}

/** A case still linked from appointments or tasks stays: deleting it would silently strip them. */
export async function deleteCase (db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction().execute(async tx => {
    const row = await getCase(tx, actor.user, id)
    const used = await tx.selectFrom('appointments').select('id').where('case_id', '=', id).limit(1).executeTakeFirst() ??
      await tx.selectFrom('tasks').select('id').where('case_id', '=', id).limit(1).executeTakeFirst()
    if (used !== undefined) throw new DomainError('conflict', 'the case still has appointments or tasks; move them first', { rule: 'case-in-use' })
    await tx.deleteFrom('cases').where('id', '=', id).execute()
    await record(tx, [{ org_id: row.org_id, entity: 'case', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id }])
  })
}

export async function listCases (db: Db, actor: User) {
  return db.selectFrom('cases').selectAll().where('org_id', '=', actor.org_id).orderBy('id').execute()
}

/** Types are the organisation's vocabulary: administrators manage them, everyone picks from them. */
export async function createItemType (db: Db, actor: Actor, input: { name?: string; appliesTo?: ItemKind; color?: string | null }) {
  requireAdmin(actor.user)
  const name = text('name', input.name, { max: 200, required: true })
  const color = colourOf(input.color)
  if (input.appliesTo !== 'appointment' && input.appliesTo !== 'task') throw invalid('appliesTo', 'must be appointment or task')
  return db.transaction().execute(async tx => {
    const dup = await tx.selectFrom('item_types').select('id').where('org_id', '=', actor.user.org_id).where('applies_to', '=', input.appliesTo!).where('name', '=', name).executeTakeFirst()
    if (dup !== undefined) throw new DomainError('conflict', `a ${input.appliesTo} type "${name}" exists already`, { field: 'name' })
    const row = await tx.insertInto('item_types').values({ org_id: actor.user.org_id, applies_to: input.appliesTo!, name, color }).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: row.org_id, entity: 'item_type', entity_id: row.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }])
    return row
  })
}

const COLOUR = /^#[0-9a-fA-F]{6}$/
function colourOf (value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  if (typeof value !== 'string' || !COLOUR.test(value)) throw invalid('color', 'must be a colour like #1a7f37')
  return value.toLowerCase()
}

/**
 * Rename, recolour or retire a type (administrators). A retired type stays on
 * the items that have it, and in their calendar bodies, but is offered for no
 * new ones; it can be taken back into use.
 */
export async function updateItemType (db: Db, actor: Actor, id: number, input: { name?: string; color?: string | null; retired?: boolean }) {
  requireAdmin(actor.user)
  return db.transaction().execute(async tx => {
    const before = await tx.selectFrom('item_types').selectAll().where('id', '=', id).where('org_id', '=', actor.user.org_id).forUpdate().executeTakeFirst()
    if (before === undefined) throw notFound('type')
    const set: { name?: string; color?: string | null; retired?: boolean } = {}
    if (input.name !== undefined) {
      const name = text('name', input.name, { max: 200, required: true })
      if (name !== before.name) {
        const dup = await tx.selectFrom('item_types').select('id').where('org_id', '=', before.org_id).where('applies_to', '=', before.applies_to).where('name', '=', name).executeTakeFirst()
        if (dup !== undefined) throw new DomainError('conflict', `a ${before.applies_to} type "${name}" exists already`, { field: 'name' })
        set.name = name
      }
    }
    if (input.color !== undefined) set.color = colourOf(input.color)
    if (input.retired !== undefined) set.retired = Boolean(input.retired)
    if (Object.keys(set).length === 0) return before
    const row = await tx.updateTable('item_types').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: row.org_id, entity: 'item_type', entity_id: row.id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail: set }])
    return row
  })
}

export async function listItemTypes (db: Db, actor: User) {
  return db.selectFrom('item_types').selectAll().where('org_id', '=', actor.org_id).orderBy('id').execute()
}
