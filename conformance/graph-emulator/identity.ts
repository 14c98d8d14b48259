// Microsoft identity platform v2.0: OpenID discovery, instance discovery,
// the authorize endpoint (consent page, PKCE), and the token endpoint
// (authorization_code, refresh_token, client_credentials; the client by its
// secret or a certificate's client assertion, assertion.ts), with AADSTS errors.
// entra-docs: docs/identity-platform/v2-oauth2-auth-code-flow.md,
// v2-oauth2-client-creds-grant-flow.md, v2-protocols-oidc.md, refresh-tokens.md,
// reference-error-codes.md.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Route, Reply, Req } from '../google-emulator/http.ts';
import { formBody, route } from '../google-emulator/http.ts';
import type { Clock } from './clock.ts';
import type { Directory, User } from './directory.ts';
import { GRAPH_RESOURCE, graphPermission, OIDC_SCOPES } from './directory.ts';
import { checkClientAssertion } from './assertion.ts';
import { AadError } from './errors.ts';
import type { Signer } from './jwt.ts';

export type AccessToken = { userId?: string; tenantId: string; clientId: string; scopes: Set<string>; roles: Set<string>; expiresMs: number };
type Code = { clientId: string; userId: string; redirectUri: string; scopes: string[]; challenge?: string; method?: string; nonce?: string; issuedMs: number; used: boolean };
type RefreshToken = { userId: string; clientId: string; scopes: string[]; issuedMs: number; lastUsedMs: number; dead?: 'expired' };

const CODE_LIFETIME_MS = 10 * 60_000; // "Typically, they expire after about 10 minutes."
const REFRESH_INACTIVITY_MS = 90 * 86_400_000; // refresh-tokens.md: 90 days of inactivity
const token = () => randomBytes(32).toString('base64url');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class Identity {
  readonly accessTokens = new Map<string, AccessToken>();
  readonly #codes = new Map<string, Code>();
  readonly #refreshTokens = new Map<string, RefreshToken>();
  accessTokenLifetimeS = 3599;
  /** false: show the consent page; a UPN: sign in and consent as that user at once; true: as login_hint. */
  autoApprove: boolean | string = false;

  private readonly dir: Directory;
  private readonly clock: Clock;
  private readonly signer: Signer;
  private readonly baseUrl: () => string;
  constructor(dir: Directory, clock: Clock, signer: Signer, baseUrl: () => string) {
    this.dir = dir;
    this.clock = clock;
    this.signer = signer;
    this.baseUrl = baseUrl;
  }

  routes(): Route[] {
    return [
      route('GET', '/{tenant}/v2.0/.well-known/openid-configuration', (r) => this.#openidConfiguration(r)),
      route('GET', '/{tenant}/discovery/v2.0/keys', () => ({ status: 200, body: { keys: [this.signer.jwk] } })),
      route('GET', '/common/discovery/instance', () => this.#instanceDiscovery()),
      route('GET', '/{tenant}/oauth2/v2.0/authorize', (r) => this.#authorize(r, r.query)),
      route('POST', '/{tenant}/oauth2/v2.0/authorize', (r) => this.#decide(r)),
      route('POST', '/{tenant}/oauth2/v2.0/token', (r) => this.#tokenEndpoint(r)),
    ];
  }

  #fail(e: AadError): Reply {
    return { status: e.status, body: e.body(this.clock.now(), this.baseUrl()) };
  }

  // v2-protocols-oidc.md: "Find your app's OpenID configuration document URI".
  #openidConfiguration(r: Req): Reply {
    const t = this.dir.resolveTenant(r.params.tenant!);
    if (!t) return this.#fail(new AadError(400, 'invalid_tenant', 90002, `Tenant '${r.params.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`));
    const base = `${this.baseUrl()}/${r.params.tenant}`;
    return {
      status: 200,
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${this.baseUrl()}/${t === 'any' ? '{tenantid}' : t.id}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.baseUrl()}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      },
    };
  }

  // What MSAL fetches for an authority it does not know (msal-common Authority.ts, AAD_INSTANCE_DISCOVERY_ENDPT).
  #instanceDiscovery(): Reply {
    const host = new URL(this.baseUrl()).host;
    return { status: 200, body: { tenant_discovery_endpoint: `${this.baseUrl()}/{tenant}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] } };
  }

  #page(title: string, text: string, extra = ''): Reply {
    return { status: 200, html: `<!doctype html><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(text)}</p>${extra}` };
  }

  #authorize(r: Req, q: URLSearchParams): Reply {
    const clientId = q.get('client_id') ?? '';
    const app = this.dir.apps.get(clientId);
    const tenant = this.dir.resolveTenant(r.params.tenant!);
    if (!app) return this.#page('Sign in', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${r.params.tenant}'.`);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!app.redirectUris.includes(redirectUri)) return this.#page('Sign in', `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`);
    const back = (params: Record<string, string>) => this.#redirect(redirectUri, q.get('response_mode') ?? 'query', { ...params, ...(q.has('state') ? { state: q.get('state')! } : {}) });
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: `AADSTS700054: response_type '${q.get('response_type')}' is not enabled for the application.` });
    const method = q.get('code_challenge_method');
    if (method !== null && method !== 'S256' && method !== 'plain') return back({ error: 'invalid_request', error_description: 'AADSTS501491: Invalid size of Code_Challenge parameter.' });
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    // An app whose permissions need an admin: the user sees "Need admin approval" (AADSTS90094) and can only go back.
    const needsAdmin = scopes.map(graphPermission).filter((s) => app.needsAdminApproval.has(s));
    if (needsAdmin.length) {
      const cancel = `${redirectUri}?${new URLSearchParams({ error: 'access_denied', error_subcode: 'cancel', error_description: 'AADSTS65004: User declined to consent to access the app.', ...(q.has('state') ? { state: q.get('state')! } : {}) })}`;
      return this.#page('Need admin approval', `AADSTS90094: The grant requires admin permission. ${app.name} needs permission to access resources in your organization that only an admin can grant.`, `<a id="back" href="${escapeHtml(cancel)}">Return to the application without granting consent</a>`);
    }
    const candidates = [...this.dir.users.values()].filter((u) => tenant === 'any' || u.tenantId === tenant?.id);
    const hint = q.get('login_hint')?.toLowerCase();
    const auto = typeof this.autoApprove === 'string' ? this.autoApprove : this.autoApprove && hint ? hint : undefined;
    const autoUser = auto ? candidates.find((u) => u.upn === auto) : undefined;
    if (autoUser && q.get('prompt') !== 'consent') return this.#issueCode(autoUser, app.clientId, q, back);
    if (q.get('prompt') === 'none') return back({ error: 'interaction_required', error_description: 'AADSTS65001: The user or administrator has not consented to use the application.' });
    const forms = candidates
      .map((u) => `<form method="post"><input type="hidden" name="as" value="${escapeHtml(u.upn)}"><button>Accept as ${escapeHtml(u.upn)}</button></form>`)
      .join('');
    return this.#page('Permissions requested', `${app.name} wants to: ${scopes.join(', ')}`, `${forms}<form method="post"><input type="hidden" name="deny" value="1"><button>Cancel</button></form>`);
  }

  #decide(r: Req): Reply {
    const q = r.query;
    const form = formBody(r);
    const redirectUri = q.get('redirect_uri') ?? '';
    const back = (params: Record<string, string>) => this.#redirect(redirectUri, q.get('response_mode') ?? 'query', { ...params, ...(q.has('state') ? { state: q.get('state')! } : {}) });
    const app = this.dir.apps.get(q.get('client_id') ?? '');
    if (!app || !app.redirectUris.includes(redirectUri)) return this.#authorize(r, q);
    if (form.get('deny')) return back({ error: 'access_denied', error_subcode: 'cancel', error_description: 'AADSTS65004: User declined to consent to access the app.' });
    const user = this.dir.userByUpn(form.get('as') ?? '');
    if (!user) return this.#authorize(r, q);
    return this.#issueCode(user, app.clientId, q, back);
  }

  #issueCode(user: User, clientId: string, q: URLSearchParams, back: (p: Record<string, string>) => Reply): Reply {
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    this.dir.grant(user.id, clientId, scopes.map(graphPermission).filter((s) => !s.endsWith('.default')));
    const code = token();
    const c: Code = { clientId, userId: user.id, redirectUri: q.get('redirect_uri')!, scopes, issuedMs: this.clock.now(), used: false };
    if (q.get('code_challenge')) {
      c.challenge = q.get('code_challenge')!;
      c.method = q.get('code_challenge_method') ?? 'plain';
    }
    if (q.get('nonce')) c.nonce = q.get('nonce')!;
    this.#codes.set(code, c);
    return back({ code, client_info: this.#clientInfo(user) });
  }

  #redirect(redirectUri: string, mode: string, params: Record<string, string>): Reply {
    if (mode === 'form_post') {
      const inputs = Object.entries(params).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
      return { status: 200, html: `<!doctype html><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(redirectUri)}">${inputs}</form>` };
    }
    const sep = mode === 'fragment' ? '#' : redirectUri.includes('?') ? '&' : '?';
    return { status: 302, headers: { location: `${redirectUri}${sep}${new URLSearchParams(params)}` } };
  }

  #clientInfo(u: User): string {
    return Buffer.from(JSON.stringify({ uid: u.id, utid: u.tenantId })).toString('base64url');
  }

  /** The addresses a client assertion's aud may name for the tenant of the request: its token endpoint by the segment used, the tenant id or domain. */
  #tokenEndpoints(tenantSegment: string): string[] {
    const t = this.dir.resolveTenant(tenantSegment);
    const segments = new Set([tenantSegment, ...(t && t !== 'any' ? [t.id, t.domain] : [])]);
    return [...segments].flatMap((s) => [`${this.baseUrl()}/${s}/oauth2/v2.0/token`, `${this.baseUrl()}/${s}/oauth2/token`]);
  }

  /** Client authentication: client_secret in the body or HTTP Basic, or a certificate's client assertion (all documented). */
  #client(r: Req, form: URLSearchParams, tenantSegment: string): string {
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      const clientId = form.get('client_id') ?? '';
      const app = this.dir.apps.get(clientId);
      if (!app) throw new AadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
      checkClientAssertion(app, form.get('client_assertion_type'), assertion, this.#tokenEndpoints(tenantSegment), this.clock.now());
      return clientId;
    }
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic (.+)$/i.exec(String(r.headers.authorization ?? ''));
    if (basic) {
      const [id, s] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map(decodeURIComponent);
      clientId = id ?? clientId;
      secret = s;
    }
    const app = this.dir.apps.get(clientId);
    if (!app) throw new AadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    if (app.secret !== undefined || app.certificates.length > 0) {
      if (secret === undefined) throw new AadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      const a = Buffer.from(secret);
      const b = Buffer.from(app.secret ?? '');
      if (app.secret === undefined || a.length !== b.length || !timingSafeEqual(a, b)) throw new AadError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    return clientId;
  }

  #tokenEndpoint(r: Req): Reply {
    try {
      const form = formBody(r);
      const clientId = this.#client(r, form, r.params.tenant!);
      switch (form.get('grant_type')) {
        case 'authorization_code':
          return this.#codeGrant(form, clientId);
        case 'refresh_token':
          return this.#refreshGrant(form, clientId);
        case 'client_credentials':
          return this.#clientCredentials(form, clientId, r.params.tenant!);
        default:
          throw new AadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type')}'.`);
      }
    } catch (e) {
      if (e instanceof AadError) return this.#fail(e);
      throw e;
    }
  }

  #codeGrant(form: URLSearchParams, clientId: string): Reply {
    const c = this.#codes.get(form.get('code') ?? '');
    if (!c || c.clientId !== clientId) throw new AadError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    if (c.used) throw new AadError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (this.clock.now() - c.issuedMs > CODE_LIFETIME_MS) throw new AadError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    if (form.get('redirect_uri') !== c.redirectUri) throw new AadError(400, 'invalid_grant', 500112, `The reply address '${form.get('redirect_uri')}' does not match the reply address '${c.redirectUri}' provided when requesting Authorization code.`);
    if (c.challenge !== undefined) {
      const verifier = form.get('code_verifier') ?? '';
      const derived = c.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (derived !== c.challenge) throw new AadError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    c.used = true;
    const user = this.dir.users.get(c.userId)!;
    return this.#delegatedTokens(user, clientId, form.get('scope')?.split(' ').filter(Boolean) ?? c.scopes, c.nonce, form.get('client_info') === '1');
  }

  #refreshGrant(form: URLSearchParams, clientId: string): Reply {
    const rt = this.#refreshTokens.get(form.get('refresh_token') ?? '');
    if (!rt || rt.clientId !== clientId) throw new AadError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    const user = this.dir.users.get(rt.userId)!;
    const now = this.clock.now();
    if (rt.dead === 'expired' || now - rt.lastUsedMs > REFRESH_INACTIVITY_MS)
      throw new AadError(400, 'invalid_grant', 700082, `The refresh token has expired due to inactivity. The token was issued on ${new Date(rt.issuedMs).toISOString()} and was inactive for 90.00:00:00.`);
    if (rt.issuedMs < user.tokensValidFromMs)
      throw new AadError(400, 'invalid_grant', 50173, `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${new Date(rt.issuedMs).toISOString()}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${new Date(user.tokensValidFromMs).toISOString()}'.`);
    const requested = form.get('scope')?.split(' ').filter(Boolean) ?? rt.scopes;
    const granted = this.dir.granted(user.id, clientId);
    const missing = requested.map(graphPermission).filter((s) => !OIDC_SCOPES.has(s) && !s.endsWith('.default') && !granted.has(s));
    if (missing.length || granted.size === 0)
      throw new AadError(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${clientId}' named '${this.dir.apps.get(clientId)!.name}'. Send an interactive authorization request for this user and resource.`, 'consent_required');
    rt.lastUsedMs = now;
    return this.#delegatedTokens(user, clientId, requested, undefined, form.get('client_info') === '1');
  }

  #delegatedTokens(user: User, clientId: string, requested: string[], nonce: string | undefined, clientInfo: boolean): Reply {
    const granted = this.dir.granted(user.id, clientId);
    const wantsAll = requested.some((s) => s.endsWith('/.default'));
    const perms = wantsAll ? [...granted] : requested.map(graphPermission).filter((s) => !OIDC_SCOPES.has(s) && granted.has(s));
    const now = this.clock.now();
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: [...perms.map((p) => `${GRAPH_RESOURCE}/${p}`), ...requested.filter((s) => OIDC_SCOPES.has(s))].join(' '),
      expires_in: this.accessTokenLifetimeS,
      ext_expires_in: this.accessTokenLifetimeS,
      access_token: this.#accessToken({ userId: user.id, tenantId: user.tenantId, clientId, scopes: new Set(perms), roles: new Set(), expiresMs: now + this.accessTokenLifetimeS * 1000 }, user),
    };
    if (requested.includes('offline_access')) {
      const rt = token();
      this.#refreshTokens.set(rt, { userId: user.id, clientId, scopes: requested, issuedMs: now, lastUsedMs: now });
      body.refresh_token = rt;
    }
    if (requested.includes('openid')) {
      const claims: Record<string, unknown> = {
        aud: clientId, iss: `${this.baseUrl()}/${user.tenantId}/v2.0`, iat: Math.floor(now / 1000), nbf: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 3600,
        name: user.displayName, oid: user.id, preferred_username: user.upn, sub: createHash('sha256').update(`${user.id}${clientId}`).digest('base64url').slice(0, 43), tid: user.tenantId, ver: '2.0',
      };
      if (nonce) claims.nonce = nonce;
      body.id_token = this.signer.sign(claims);
    }
    if (clientInfo) body.client_info = this.#clientInfo(user);
    return { status: 200, body };
  }

  // v2-oauth2-client-creds-grant-flow.md: scope must be "<resource>/.default"; the token carries the admin-granted roles.
  #clientCredentials(form: URLSearchParams, clientId: string, tenantSegment: string): Reply {
    const scope = form.get('scope') ?? '';
    if (!scope.endsWith('/.default') || scope.split(' ').length !== 1)
      throw new AadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    const tenant = this.dir.resolveTenant(tenantSegment);
    if (tenant === 'any') throw new AadError(400, 'invalid_request', 50059, 'No tenant-identifying information found in either the request or implied by any provided credentials.');
    if (!tenant) throw new AadError(400, 'invalid_tenant', 90002, `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    const roles = this.dir.appRoles.get(`${tenant.id} ${clientId}`) ?? new Set<string>();
    const now = this.clock.now();
    return {
      status: 200,
      body: {
        token_type: 'Bearer', expires_in: this.accessTokenLifetimeS, ext_expires_in: this.accessTokenLifetimeS,
        access_token: this.#accessToken({ tenantId: tenant.id, clientId, scopes: new Set(), roles: new Set(roles), expiresMs: now + this.accessTokenLifetimeS * 1000 }),
      },
    };
  }

  #accessToken(t: AccessToken, user?: User): string {
    const now = this.clock.now();
    const claims: Record<string, unknown> = { aud: GRAPH_RESOURCE, iss: `https://sts.windows.net/${t.tenantId}/`, iat: Math.floor(now / 1000), nbf: Math.floor(now / 1000), exp: Math.floor(t.expiresMs / 1000), appid: t.clientId, tid: t.tenantId, ver: '1.0' };
    if (user) Object.assign(claims, { oid: user.id, upn: user.upn, scp: [...t.scopes].join(' ') });
    else claims.roles = [...t.roles];
    const jwt = this.signer.sign({ ...claims, uti: randomBytes(12).toString('base64url') });
    this.accessTokens.set(jwt, t);
    return jwt;
  }

  /** A delegated token without the dance (tests that are not about identity). */
  issueAccessToken(user: User, clientId: string, permissions: string[]): string {
    this.dir.grant(user.id, clientId, permissions);
    return this.#accessToken({ userId: user.id, tenantId: user.tenantId, clientId, scopes: new Set(permissions), roles: new Set(), expiresMs: this.clock.now() + this.accessTokenLifetimeS * 1000 }, user);
  }

  expireRefreshTokens(userId?: string): void {
    for (const rt of this.#refreshTokens.values()) if (!userId || rt.userId === userId) rt.dead = 'expired';
  }
}
