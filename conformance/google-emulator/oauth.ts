// Google's OAuth 2.0 endpoints: consent page (/o/oauth2/v2/auth), token
// endpoint (/token: authorization_code, refresh_token, jwt-bearer for
// service accounts with domain-wide delegation), revocation (/revoke), and
// the bearer-token check every API call goes through.
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { errors } from './errors.ts';
import type { Req, Reply, Route } from './http.ts';
import { formBody, route } from './http.ts';
import { consentPage, errorPage } from './consent-page.ts';
import { randomToken } from './store.ts';
import { accountId } from './userinfo.ts';
import type { Store } from './store.ts';

type Grant = { email: string; clientId: string; scopes: Set<string>; refreshToken?: string; revoked: boolean };
type AccessToken = { email: string; scopes: Set<string>; expiresAt: number; grant?: Grant; revoked: boolean };
export type TokenInfo = { email: string; scopes: Set<string>; expiresAt: number; clientId?: string; offline: boolean };
type Code = {
  clientId: string;
  redirectUri: string;
  email: string;
  scopes: Set<string>;
  offline: boolean;
  forceConsent: boolean;
  expiresAt: number;
  /** PKCE (RFC 7636) */
  challenge?: { value: string; method: string };
};
type ServiceAccount = { clientEmail: string; key: KeyObject; domain: string };

export type Auth = { email: string; scopes: Set<string> };

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GOOGLE_TOKEN_URLS = ['https://oauth2.googleapis.com/token', 'https://www.googleapis.com/oauth2/v4/token', 'https://accounts.google.com/o/oauth2/token'];

function tokenError(status: number, error: string, description: string): Reply {
  return { status, body: { error, error_description: description } };
}

function unsignedPart(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export class OAuth {
  clients = new Map<string, string>();
  serviceAccounts = new Map<string, ServiceAccount>();
  accessTokenLifetime = 3599;
  /** Requests to the token endpoint by grant_type (refused ones too). */
  tokenRequests: Record<string, number> = {};
  autoApprove: string | boolean = false;
  private codes = new Map<string, Code>();
  private grants: Grant[] = [];
  private refreshTokens = new Map<string, Grant>();
  private accessTokens = new Map<string, AccessToken>();
  private idTokenKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  private store: Store;
  private baseUrl: () => string;

  constructor(store: Store, baseUrl: () => string) {
    this.store = store;
    this.baseUrl = baseUrl;
  }

  registerServiceAccount(sa: { clientEmail: string; publicKeyPem: string; domain: string }): void {
    this.serviceAccounts.set(sa.clientEmail, { clientEmail: sa.clientEmail, key: createPublicKey(sa.publicKeyPem), domain: sa.domain.toLowerCase() });
  }

  /** Every refresh and access token of the account stops working. */
  revoke(email: string): void {
    for (const g of this.grants) if (g.email === email) g.revoked = true;
    for (const t of this.accessTokens.values()) if (t.email === email) t.revoked = true;
  }

  /** Access tokens issued so far expire now, as an hour passing would make them (API → 401). */
  expireAccessTokens(email?: string): void {
    for (const t of this.accessTokens.values()) if (email === undefined || t.email === email) t.expiresAt = Math.min(t.expiresAt, Date.now());
  }

  /** Issues an access token directly (tests that do not care about the OAuth dance). */
  issueAccessToken(email: string, scopes: string[]): string {
    return this.newAccessToken(email, new Set(scopes)).access_token;
  }

  authenticate(req: Req): Auth {
    const header = req.headers.authorization;
    if (!header) throw errors.loginRequired();
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const info = m ? this.lookup(m[1]!) : undefined;
    if (!info) throw errors.authError();
    return { email: info.email, scopes: info.scopes };
  }

  /** A live access token's facts, or undefined when it is unknown, expired or revoked. */
  lookup(accessToken: string): TokenInfo | undefined {
    const t = this.accessTokens.get(accessToken);
    if (!t || t.revoked || t.expiresAt <= Date.now() || t.grant?.revoked) return undefined;
    return { email: t.email, scopes: t.scopes, expiresAt: t.expiresAt, clientId: t.grant?.clientId, offline: Boolean(t.grant?.refreshToken) };
  }

  routes(): Route[] {
    return [
      route('GET', '/o/oauth2/v2/auth', (req) => this.authorize(req)),
      route('GET', '/o/oauth2/auth', (req) => this.authorize(req)),
      route('POST', '/o/oauth2/v2/auth/decision', (req) => this.decide(req)),
      route('POST', '/token', (req) => this.token(req)),
      route('POST', '/revoke', (req) => this.revokeEndpoint(req)),
      route('GET', '/revoke', (req) => this.revokeEndpoint(req)),
    ];
  }

  private authorize(req: Req): Reply {
    const q = req.query;
    const clientId = q.get('client_id') ?? '';
    if (!this.clients.has(clientId)) return { status: 400, html: errorPage('invalid_client', 'The OAuth client was not found.') };
    const redirectUri = q.get('redirect_uri');
    if (!redirectUri) return { status: 400, html: errorPage('invalid_request', 'Missing required parameter: redirect_uri') };
    if (q.get('response_type') !== 'code') return { status: 400, html: errorPage('unsupported_response_type', `Unsupported response type: ${q.get('response_type') ?? ''}`) };
    if (!q.get('scope')) return { status: 400, html: errorPage('invalid_request', 'Missing required parameter: scope') };
    const hint = q.get('login_hint') ?? '';
    const auto = typeof this.autoApprove === 'string' ? this.autoApprove : this.autoApprove && this.store.accounts.has(hint) ? hint : undefined;
    if (auto && this.store.accounts.has(auto)) return this.approve(q, auto);
    return { status: 200, html: consentPage(q.toString(), [...this.store.accounts.keys()], clientId) };
  }

  private decide(req: Req): Reply {
    const form = formBody(req);
    const q = new URLSearchParams(form.get('request') ?? '');
    if (!this.clients.has(q.get('client_id') ?? '')) return { status: 400, html: errorPage('invalid_client', 'The OAuth client was not found.') };
    const email = form.get('email') ?? '';
    if (form.get('decision') !== 'allow' || !this.store.accounts.has(email)) {
      return this.redirect(q, { error: 'access_denied' });
    }
    return this.approve(q, email);
  }

  private approve(q: URLSearchParams, email: string): Reply {
    const code = `4/0${randomToken(40)}`;
    const scopes = new Set((q.get('scope') ?? '').split(/\s+/).filter(Boolean));
    if (q.get('include_granted_scopes') === 'true') {
      for (const g of this.grants) if (!g.revoked && g.email === email && g.clientId === q.get('client_id')) for (const s of g.scopes) scopes.add(s);
    }
    this.codes.set(code, {
      clientId: q.get('client_id')!,
      redirectUri: q.get('redirect_uri')!,
      email,
      scopes,
      offline: q.get('access_type') === 'offline',
      forceConsent: (q.get('prompt') ?? '').split(' ').includes('consent'),
      ...(q.get('code_challenge') ? { challenge: { value: q.get('code_challenge')!, method: q.get('code_challenge_method') ?? 'plain' } } : {}),
      expiresAt: Date.now() + 10 * 60_000,
    });
    return this.redirect(q, { code, scope: [...scopes].join(' ') });
  }

  private redirect(q: URLSearchParams, params: Record<string, string>): Reply {
    const target = new URL(q.get('redirect_uri')!);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, headers: { location: target.toString() } };
  }

  private clientCredentials(req: Req, form: URLSearchParams): { id: string; secret: string } {
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      return { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(secret ?? '') };
    }
    return { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
  }

  private token(req: Req): Reply {
    const form = formBody(req);
    const grantType = form.get('grant_type') ?? '';
    this.tokenRequests[grantType] = (this.tokenRequests[grantType] ?? 0) + 1;
    if (grantType === JWT_BEARER) return this.jwtBearer(form.get('assertion') ?? '');
    const client = this.clientCredentials(req, form);
    const secret = this.clients.get(client.id);
    if (secret === undefined) return tokenError(401, 'invalid_client', 'The OAuth client was not found.');
    if (secret !== client.secret) return tokenError(401, 'invalid_client', 'Unauthorized');
    if (grantType === 'authorization_code') return this.exchangeCode(client.id, form);
    if (grantType === 'refresh_token') return this.refresh(client.id, form.get('refresh_token') ?? '');
    if (!grantType) return tokenError(400, 'unsupported_grant_type', 'Invalid grant_type: ');
    return tokenError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  }

  private exchangeCode(clientId: string, form: URLSearchParams): Reply {
    const codeValue = form.get('code') ?? '';
    const code = this.codes.get(codeValue);
    if (!code) return tokenError(400, 'invalid_grant', codeValue ? 'Bad Request' : 'Missing required parameter: code');
    this.codes.delete(codeValue);
    if (code.clientId !== clientId || code.expiresAt < Date.now()) return tokenError(400, 'invalid_grant', 'Bad Request');
    if (form.get('redirect_uri') !== code.redirectUri) return tokenError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.challenge) {
      const verifier = form.get('code_verifier');
      if (!verifier) return tokenError(400, 'invalid_grant', 'Missing code verifier.');
      const derived = code.challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (derived !== code.challenge.value) return tokenError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    const grant: Grant = { email: code.email, clientId, scopes: code.scopes, revoked: false };
    this.grants.push(grant);
    const body: Record<string, unknown> = this.newAccessToken(code.email, code.scopes, grant);
    // Google hands out a refresh token on the first offline consent, or again only with prompt=consent.
    const hasOffline = this.grants.some((g) => g !== grant && !g.revoked && g.refreshToken && g.email === code.email && g.clientId === clientId);
    if (code.offline && (code.forceConsent || !hasOffline)) {
      grant.refreshToken = `1//0${randomToken(48)}`;
      this.refreshTokens.set(grant.refreshToken, grant);
      body.refresh_token = grant.refreshToken;
    }
    body.id_token = this.idToken(code.email, clientId);
    return { status: 200, body };
  }

  private refresh(clientId: string, refreshToken: string): Reply {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.revoked || grant.clientId !== clientId) return tokenError(400, 'invalid_grant', 'Token has been expired or revoked.');
    return { status: 200, body: this.newAccessToken(grant.email, grant.scopes, grant) };
  }

  private jwtBearer(assertion: string): Reply {
    const [h, p, s] = assertion.split('.');
    if (!h || !p || !s) return tokenError(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    let header: { alg?: string };
    let claims: { iss?: string; scope?: string; aud?: string; exp?: number; iat?: number; sub?: string };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return tokenError(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    const sa = this.serviceAccounts.get(claims.iss ?? '');
    if (!sa) return tokenError(400, 'invalid_grant', 'Invalid grant: account not found');
    if (header.alg !== 'RS256' || !verify('RSA-SHA256', Buffer.from(`${h}.${p}`), sa.key, Buffer.from(s, 'base64url'))) {
      return tokenError(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    const audiences = [...GOOGLE_TOKEN_URLS, `${this.baseUrl()}/token`];
    if (!audiences.includes(claims.aud ?? '')) return tokenError(400, 'invalid_grant', 'Invalid JWT: Failed audience check. The expected audience is the token endpoint.');
    const now = Date.now() / 1000;
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp <= now || iat > now + 300 || exp - iat > 3600) {
      return tokenError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (!claims.scope) return tokenError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const email = claims.sub ?? sa.clientEmail;
    if (claims.sub !== undefined) {
      const domain = claims.sub.split('@')[1]?.toLowerCase();
      if (domain !== sa.domain) {
        return tokenError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
      }
      if (!this.store.accounts.has(claims.sub)) return tokenError(400, 'invalid_grant', 'Invalid email or User ID');
    }
    const body = this.newAccessToken(email, new Set(claims.scope.split(/\s+/).filter(Boolean)));
    delete (body as { scope?: string }).scope;
    return { status: 200, body };
  }

  private newAccessToken(email: string, scopes: Set<string>, grant?: Grant): { access_token: string; expires_in: number; scope: string; token_type: 'Bearer' } {
    const token = `ya29.a0${randomToken(60)}`;
    this.accessTokens.set(token, { email, scopes, grant, expiresAt: Date.now() + this.accessTokenLifetime * 1000, revoked: false });
    return { access_token: token, expires_in: this.accessTokenLifetime, scope: [...scopes].join(' '), token_type: 'Bearer' };
  }

  private idToken(email: string, clientId: string): string {
    const now = Math.floor(Date.now() / 1000);
    const head = unsignedPart({ alg: 'RS256', typ: 'JWT', kid: 'google-emulator' });
    const body = unsignedPart({ iss: 'https://accounts.google.com', azp: clientId, aud: clientId, sub: accountId(email), email, email_verified: true, iat: now, exp: now + 3600 });
    const signature = sign('RSA-SHA256', Buffer.from(`${head}.${body}`), this.idTokenKey).toString('base64url');
    return `${head}.${body}.${signature}`;
  }

  private revokeEndpoint(req: Req): Reply {
    const token = req.query.get('token') ?? formBody(req).get('token') ?? '';
    const grant = this.refreshTokens.get(token) ?? this.accessTokens.get(token)?.grant;
    const access = this.accessTokens.get(token);
    if (!grant && !access) return tokenError(400, 'invalid_token', 'Token expired or revoked');
    if (grant) {
      grant.revoked = true;
      for (const t of this.accessTokens.values()) if (t.grant === grant) t.revoked = true;
    }
    if (access) access.revoked = true;
    return { status: 200, body: {} };
  }
}
