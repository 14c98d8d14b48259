// Client authentication with a certificate: a JWT client assertion
// (private_key_jwt) signed with a key whose certificate is registered on the
// app, checked as the identity platform checks it.
// entra-docs: docs/identity-platform/certificate-credentials.md (header alg
// PS256 or RS256 with x5t#S256 or x5t; claims aud = the token endpoint,
// iss = sub = client id, jti, nbf, exp; client_assertion_type jwt-bearer).
// The AADSTS codes and texts are those the service answers (reference-error-codes.md
// lists 700027; the others as the service writes them, quoted in
// AzureAD/microsoft-identity-web#2834 (1000502, 700024), Azure/azure-sdk-for-net#29007
// (700027 "key was not found"), AzureAD/microsoft-authentication-library-for-dotnet#2746
// (700023), learn.microsoft.com azure/developer/java/sdk/troubleshooting-authentication-service-principal (700021)).
import { constants, verify } from 'node:crypto';
import type { App, KeyCredential } from './directory.ts';
import { AadError } from './errors.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DOC = 'Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .';
/** Tolerated clock difference between the client and the service. */
const SKEW_MS = 5 * 60_000;

type Parsed = { header: Record<string, unknown>; claims: Record<string, unknown>; signed: Buffer; signature: Buffer };

function parse(jwt: string): Parsed {
  const parts = jwt.split('.');
  try {
    if (parts.length !== 3) throw new Error('parts');
    const [h, c, s] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header, claims, signed: Buffer.from(`${h}.${c}`), signature: Buffer.from(s, 'base64url') };
  } catch {
    throw new AadError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  }
}

// "Found key 'Start=08/18/2024 19:33:23, End=08/18/2029 19:33:23'" (as the service writes dates)
const usDate = (ms: number) => {
  const d = new Date(ms).toISOString();
  return `${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(0, 4)} ${d.slice(11, 19)}`;
};
const ticks = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '0000Z');
const hexThumbprint = (b64url: string) => Buffer.from(b64url, 'base64url').toString('hex').toUpperCase();

function signatureHolds(p: Parsed, key: KeyCredential): boolean {
  const alg = p.header.alg;
  if (alg === 'RS256') return verify('sha256', p.signed, key.publicKey, p.signature);
  return verify('sha256', p.signed, { key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, p.signature);
}

/**
 * Checks a client assertion for `app` at `nowMs`, posted to `tokenEndpoints`
 * (the addresses that name this tenant's token endpoint); returns nothing or
 * throws the service's refusal.
 */
export function checkClientAssertion(app: App, assertionType: string | null, jwt: string, tokenEndpoints: string[], nowMs: number): void {
  if (assertionType !== JWT_BEARER) throw new AadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_assertion_type'.");
  const p = parse(jwt);
  const clientId = app.clientId;
  if (p.header.alg !== 'RS256' && p.header.alg !== 'PS256') throw new AadError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The signing algorithm '${String(p.header.alg)}' is not supported.] ${DOC}`);
  const s256 = typeof p.header['x5t#S256'] === 'string' ? (p.header['x5t#S256'] as string) : undefined;
  const s1 = typeof p.header.x5t === 'string' ? (p.header.x5t as string) : undefined;
  const key = app.certificates.find((k) => (s256 !== undefined && k.sha256 === s256) || (s256 === undefined && s1 !== undefined && k.sha1 === s1));
  const used = hexThumbprint(s256 ?? s1 ?? '');
  const seeKeys = `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${clientId}'`;
  if (key === undefined) throw new AadError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${used}', ${seeKeys}].`);
  if (nowMs < key.startMs || nowMs > key.endMs) throw new AadError(401, 'invalid_client', 1000502, `The provided certificate is not within its specified validity window. [Thumbprint of key used by client: '${used}', Found key 'Start=${usDate(key.startMs)}, End=${usDate(key.endMs)}'].`);
  if (!signatureHolds(p, key)) throw new AadError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '${used}', Found key 'Start=${usDate(key.startMs)}, End=${usDate(key.endMs)}', ${seeKeys}].`);
  const c = p.claims;
  if (c.iss !== clientId || c.sub !== clientId) throw new AadError(401, 'invalid_client', 700021, `Client assertion application identifier doesn't match 'client_id' parameter. ${DOC}`);
  if (typeof c.aud !== 'string' || !tokenEndpoints.includes(c.aud)) throw new AadError(401, 'invalid_client', 700023, `Client assertion audience claim does not match Realm issuer. ${DOC}`);
  const exp = typeof c.exp === 'number' ? c.exp * 1000 : 0;
  const nbf = typeof c.nbf === 'number' ? c.nbf * 1000 : 0;
  if (nowMs >= exp + SKEW_MS || nowMs + SKEW_MS < nbf) {
    throw new AadError(401, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${ticks(nowMs)}, assertion valid from ${ticks(nbf)}, expiry time of assertion ${ticks(exp)}. ${DOC}`);
  }
  if (typeof c.jti !== 'string' || c.jti === '') throw new AadError(400, 'invalid_request', 90014, "The required field 'jti' is missing from the credential. Ensure that you have all the necessary parameters for the login request.");
}
