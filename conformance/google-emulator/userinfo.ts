// Who a token belongs to: OpenID/OAuth userinfo (/oauth2/v2/userinfo as the
// googleapis oauth2 client calls it, /oauth2/v3/userinfo) and /tokeninfo as
// google-auth-library's getTokenInfo calls it.
import { createHash } from 'node:crypto';
import { errors } from './errors.ts';
import type { Reply, Req, Route } from './http.ts';
import { formBody, route } from './http.ts';
import type { OAuth, TokenInfo } from './oauth.ts';

const EMAIL_SCOPES = ['email', 'https://www.googleapis.com/auth/userinfo.email'];

/** Google's numeric account id, stable per email. */
export function accountId(email: string): string {
  return BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 15)}`).toString().padStart(21, '1');
}

function bearer(req: Req): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

export function userinfoRoutes(oauth: OAuth): Route[] {
  /** Google answers a token without an email scope as if no credential had been sent. */
  function withEmailScope(req: Req): TokenInfo {
    const token = bearer(req);
    if (!token) throw errors.loginRequired();
    const info = oauth.lookup(token);
    if (!info) throw errors.authError();
    if (!EMAIL_SCOPES.some((s) => info.scopes.has(s))) throw errors.loginRequired();
    return info;
  }

  const tokeninfo = (req: Req): Reply => {
    const token = req.query.get('access_token') ?? formBody(req).get('access_token') ?? bearer(req) ?? '';
    const info = oauth.lookup(token);
    if (!info) return { status: 400, body: { error: 'invalid_token', error_description: 'Invalid Value' } };
    const body: Record<string, string | number> = {
      azp: info.clientId ?? '',
      aud: info.clientId ?? '',
      sub: accountId(info.email),
      scope: [...info.scopes].join(' '),
      exp: String(Math.floor(info.expiresAt / 1000)),
      expires_in: Math.max(0, Math.floor((info.expiresAt - Date.now()) / 1000)),
      access_type: info.offline ? 'offline' : 'online',
    };
    if (EMAIL_SCOPES.some((s) => info.scopes.has(s))) Object.assign(body, { email: info.email, email_verified: 'true' });
    return { status: 200, body };
  };

  return [
    route('GET', '/oauth2/v2/userinfo', (req) => {
      const info = withEmailScope(req);
      return { status: 200, body: { id: accountId(info.email), email: info.email, verified_email: true } };
    }),
    route('GET', '/oauth2/v3/userinfo', (req) => {
      const info = withEmailScope(req);
      return { status: 200, body: { sub: accountId(info.email), email: info.email, email_verified: true } };
    }),
    route('GET', '/tokeninfo', tokeninfo),
    route('POST', '/tokeninfo', tokeninfo),
  ];
}
