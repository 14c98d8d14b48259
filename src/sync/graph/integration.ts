import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import { invalid } from '../../domain/errors.ts'
import { storeIntegration } from '../integrations.ts'
import { syncDb } from '../tables.ts'

/**
 * What an admin sets up for Microsoft 365: the Azure app registration
 * (tenant, client id, and its secret or certificate, sealed at rest), the
 * public address Graph posts change notifications to, and whether the app's
 * application permissions may sync every user's calendar without each user
 * signing in (organisation-wide, app-only). To Do has no application
 * permission, so tasks always need the user's own sign-in.
 */
export type GraphCertificate = { thumbprintSha256: string; privateKey: string; subject: string }

export type GraphIntegration = {
  enabled: boolean
  /** directory (tenant) id or a verified domain; empty: any work or school account ("organizations") */
  tenant: string
  clientId: string
  clientSecret: string
  certificate: GraphCertificate | null
  pushAddress: string | null
  /** the app holds Calendars.ReadWrite as an application permission: users may connect without consent */
  orgWide: boolean
}

export type GraphIntegrationInput = Partial<Omit<GraphIntegration, 'certificate'>> & { certificatePem?: string | null }

type Sealed = { clientSecret?: string; certificate?: GraphCertificate | null }

export async function loadGraphIntegration (db: Db, secrets: SecretBox, orgId: number): Promise<GraphIntegration | null> {
  const row = await syncDb(db).selectFrom('integrations').selectAll().where('org_id', '=', orgId).where('provider', '=', 'graph').executeTakeFirst()
  if (row === undefined) return null
  const s = row.settings as Record<string, unknown>
  const sealed: Sealed = row.secret_sealed == null ? {} : JSON.parse(secrets.open(row.secret_sealed)) as Sealed
  return {
    enabled: row.enabled,
    tenant: typeof s.tenant === 'string' ? s.tenant : '',
    clientId: typeof s.clientId === 'string' ? s.clientId : '',
    clientSecret: sealed.clientSecret ?? '',
    certificate: sealed.certificate ?? null,
    pushAddress: typeof s.pushAddress === 'string' ? s.pushAddress : null,
    orgWide: s.orgWide === true
  }
}

/**
 * A PEM with the certificate registered in Azure and its private key, as MSAL
 * needs them (SHA-256 thumbprint, key). The identity platform checks client
 * assertions signed PS256/RS256 (certificate-credentials.md), so an RSA key
 * that belongs to the certificate, and a certificate that has not expired:
 * anything else would only fail later, at sign-in.
 */
function parseCertificate (pem: string, now = Date.now()): GraphCertificate {
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0]
  const keyPem = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0]
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) throw invalid('certificatePem', 'has an encrypted private key; export it without a password (PEM)')
  if (certPem === undefined || keyPem === undefined) throw invalid('certificatePem', 'needs the certificate and its private key, both in PEM')
  let cert: X509Certificate
  let key: KeyObject
  try {
    cert = new X509Certificate(certPem)
    key = createPrivateKey(keyPem)
  } catch {
    throw invalid('certificatePem', 'is not a readable certificate and private key')
  }
  if (key.asymmetricKeyType !== 'rsa') throw invalid('certificatePem', 'needs an RSA key: Microsoft signs in apps with RSA certificates only')
  if (!cert.checkPrivateKey(key)) throw invalid('certificatePem', 'has a private key that does not belong to the certificate')
  if (Date.parse(cert.validTo) <= now) throw invalid('certificatePem', `expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}; upload a new certificate to the app in Azure and paste it here`)
  return { thumbprintSha256: cert.fingerprint256.replace(/:/g, ''), privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(), subject: cert.subject }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The stored settings with what an admin typed over them, checked (the form's "Test connection" uses it unsaved). */
export function mergeGraphIntegration (current: GraphIntegration | null, input: GraphIntegrationInput): GraphIntegration {
  const next: GraphIntegration = {
    enabled: input.enabled ?? current?.enabled ?? true,
    tenant: (input.tenant ?? current?.tenant ?? '').trim(),
    clientId: (input.clientId ?? current?.clientId ?? '').trim(),
    // an empty secret field keeps the stored one: the form never shows it back
    clientSecret: input.clientSecret === undefined || input.clientSecret === '' ? (current?.clientSecret ?? '') : input.clientSecret.trim(),
    certificate: input.certificatePem === undefined || input.certificatePem === '' ? (current?.certificate ?? null) : input.certificatePem === null ? null : parseCertificate(input.certificatePem),
    pushAddress: input.pushAddress === undefined ? (current?.pushAddress ?? null) : (input.pushAddress?.trim() || null),
    orgWide: input.orgWide ?? current?.orgWide ?? false
  }
  if (next.clientId !== '' && !GUID.test(next.clientId)) throw invalid('clientId', 'must be the application (client) id Azure shows, a GUID')
  if (next.tenant !== '' && !GUID.test(next.tenant) && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(next.tenant) && !['organizations', 'common'].includes(next.tenant)) {
    throw invalid('tenant', 'must be the directory (tenant) id or a domain of the organisation, such as contoso.onmicrosoft.com')
  }
  if (next.orgWide && (next.tenant === '' || next.tenant === 'organizations' || next.tenant === 'common')) throw invalid('tenant', 'is needed for the organisation-wide set-up')
  if (next.pushAddress !== null && !/^https?:\/\/[^\s]+$/.test(next.pushAddress)) throw invalid('pushAddress', 'must be the public https:// address of this server')
  return next
}

export async function saveGraphIntegration (db: Db, secrets: SecretBox, orgId: number, input: GraphIntegrationInput): Promise<GraphIntegration> {
  const next = mergeGraphIntegration(await loadGraphIntegration(db, secrets, orgId), input)
  const settings = JSON.stringify({ tenant: next.tenant, clientId: next.clientId, pushAddress: next.pushAddress, orgWide: next.orgWide })
  const sealed = secrets.seal(JSON.stringify({ clientSecret: next.clientSecret, certificate: next.certificate }))
  await storeIntegration(db, orgId, 'graph', { enabled: next.enabled, settings, secret_sealed: sealed })
  return next
}
