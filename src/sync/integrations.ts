import type { Db } from '../db/connect.ts'
import { syncDb, type Provider } from './tables.ts'

/** An organisation's settings for one provider, written whole (its secrets already sealed). */
export async function storeIntegration (db: Db, orgId: number, provider: Provider, row: { enabled: boolean; settings: string; secret_sealed: string | null }): Promise<void> {
  const at = new Date()
  await syncDb(db).insertInto('integrations').values({ org_id: orgId, provider, ...row, updated_at: at })
    .onConflict(oc => oc.columns(['org_id', 'provider']).doUpdateSet({ ...row, updated_at: at }))
    .execute()
}
