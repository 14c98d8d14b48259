import type { Db } from '../db/connect.ts'
import { syncDb, type Provider } from './tables.ts'

/**
 * An organisation's settings for one provider, written whole (its secrets
 * already sealed). The connections that sync through the organisation's own
 * credentials (auth_kind 'delegation': Google's domain-wide delegation,
 * Exchange's service account, Microsoft 365's app-only sign-in) and were
 * stopped because those were refused get another try: the admin has just
 * changed what was refused, and the users have nothing of their own to
 * reconnect with. Their kept access tokens go too (they came from the old
 * credentials); a refusal again turns them red again with its reason.
 */
export async function storeIntegration (db: Db, orgId: number, provider: Provider, row: { enabled: boolean; settings: string; secret_sealed: string | null }): Promise<void> {
  const at = new Date()
  await syncDb(db).insertInto('integrations').values({ org_id: orgId, provider, ...row, updated_at: at })
    .onConflict(oc => oc.columns(['org_id', 'provider']).doUpdateSet({ ...row, updated_at: at }))
    .execute()
  await syncDb(db).updateTable('sync_connections')
    .set({ auth_failed_at: null, access_sealed: null, access_expires_at: null, state: 'pending', state_reason: 'tried again with the organisation\'s new settings', state_at: at })
    .where('provider', '=', provider).where('auth_kind', '=', 'delegation')
    .where('auth_failed_at', 'is not', null).where('disconnected_at', 'is', null)
    .where('user_id', 'in', eb => eb.selectFrom('users').select('id').where('org_id', '=', orgId))
    .execute()
}
