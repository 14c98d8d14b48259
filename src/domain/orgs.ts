import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { requireAdmin } from './access.ts'
import type { Actor } from './actor.ts'
import { invalid, notFound } from './errors.ts'
import { LANGUAGES } from './users.ts'
import { record } from './journal.ts'
import { text, timeZone } from './values.ts'

/**
 * The organisation's own settings: its name, the time zone new users start
 * with, and whether users (not only admins) may rename cases: off unless an
 * admin turns it on, as a case's title is what the CRM files it under.
 */
export type OrgSettings = { name: string; defaultTimezone: string; defaultLanguage: string | null; usersMayRenameCases: boolean; setupDismissed: boolean }
export type OrgInput = { name?: string; defaultTimezone?: string; defaultLanguage?: string | null; usersMayRenameCases?: boolean; setupDismissed?: boolean }

export async function getOrg (db: Db, actor: User): Promise<OrgSettings> {
  const org = await db.selectFrom('orgs').selectAll().where('id', '=', actor.org_id).executeTakeFirst()
  if (org === undefined) throw notFound('organisation')
  const settings = (org.settings ?? {}) as { defaultTimezone?: string; defaultLanguage?: string; usersMayRenameCases?: boolean; setupDismissed?: boolean }
  return {
    name: org.name, defaultTimezone: settings.defaultTimezone ?? 'UTC', defaultLanguage: settings.defaultLanguage ?? null,
    usersMayRenameCases: settings.usersMayRenameCases === true, setupDismissed: settings.setupDismissed === true
  }
}

export async function updateOrg (db: Db, actor: Actor, input: OrgInput): Promise<OrgSettings> {
  requireAdmin(actor.user)
  const name = input.name === undefined ? undefined : text('name', input.name, { max: 200, required: true }).trim()
  const zone = input.defaultTimezone === undefined ? undefined : timeZone('defaultTimezone', input.defaultTimezone)
  if (input.defaultLanguage !== undefined && input.defaultLanguage !== null && !LANGUAGES.includes(input.defaultLanguage)) throw invalid('defaultLanguage', `must be one of ${LANGUAGES.join(', ')}`)
  await db.transaction().execute(async tx => {
    const org = await tx.selectFrom('orgs').selectAll().where('id', '=', actor.user.org_id).executeTakeFirstOrThrow()
    const settings = {
      ...(org.settings ?? {}),
      ...(zone === undefined ? {} : { defaultTimezone: zone }),
      ...(input.defaultLanguage === undefined ? {} : { defaultLanguage: input.defaultLanguage ?? undefined }),
      ...(input.setupDismissed === undefined ? {} : { setupDismissed: input.setupDismissed }),
      ...(input.usersMayRenameCases === undefined ? {} : { usersMayRenameCases: input.usersMayRenameCases === true })
    }
    await tx.updateTable('orgs').set({ name: name ?? org.name, settings: JSON.stringify(settings) }).where('id', '=', org.id).execute()
    await record(tx, [{ org_id: org.id, entity: 'org', entity_id: org.id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail: { name: name !== undefined, defaultTimezone: zone, defaultLanguage: input.defaultLanguage, usersMayRenameCases: input.usersMayRenameCases, setupDismissed: input.setupDismissed } }])
  })
  return getOrg(db, actor.user)
}
