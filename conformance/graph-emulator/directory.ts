// The directory: tenants, users and app registrations, with the consent each
// user gave each app (delegated) and each tenant's admin gave it (app roles).
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export type Tenant = { id: string; domain: string };
export type User = { id: string; upn: string; displayName: string; tenantId: string; timeZone: string; tokensValidFromMs: number };
/**
 * A certificate registered on the app ("keyCredentials", certificate-credentials.md):
 * found by its SHA-1 or SHA-256 thumbprint, valid from its start to its end
 * (taken from the certificate unless set, as the portal does on upload).
 */
export type KeyCredential = { sha1: string; sha256: string; publicKey: KeyObject; startMs: number; endMs: number };
export type App = { clientId: string; secret?: string; certificates: KeyCredential[]; redirectUris: string[]; name: string; needsAdminApproval: Set<string> };

export function keyCredential(pem: string, window: { startMs?: number; endMs?: number } = {}): KeyCredential {
  const cert = new X509Certificate(pem);
  return {
    sha1: createHash('sha1').update(cert.raw).digest('base64url'),
    sha256: createHash('sha256').update(cert.raw).digest('base64url'),
    publicKey: cert.publicKey,
    startMs: window.startMs ?? Date.parse(cert.validFrom),
    endMs: window.endMs ?? Date.parse(cert.validTo),
  };
}

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** "https://graph.microsoft.com/Calendars.ReadWrite" and "Calendars.ReadWrite" are the same Graph permission. */
export function graphPermission(scope: string): string {
  return scope.startsWith(`${GRAPH_RESOURCE}/`) ? scope.slice(GRAPH_RESOURCE.length + 1) : scope;
}

export class Directory {
  readonly tenants = new Map<string, Tenant>();
  readonly users = new Map<string, User>();
  readonly apps = new Map<string, App>();
  /** `${userId} ${clientId}` → delegated permissions the user consented to. */
  readonly grants = new Map<string, Set<string>>();
  /** `${tenantId} ${clientId}` → application permissions (app roles) an admin granted. */
  readonly appRoles = new Map<string, Set<string>>();

  tenantFor(domain: string): Tenant {
    for (const t of this.tenants.values()) if (t.domain === domain) return t;
    const t = { id: randomUUID(), domain };
    this.tenants.set(t.id, t);
    return t;
  }

  /** A tenant as the path segment names it: its id, its domain, or undefined for common/organizations. */
  resolveTenant(segment: string): Tenant | 'any' | undefined {
    if (segment === 'common' || segment === 'organizations') return 'any';
    return this.tenants.get(segment) ?? [...this.tenants.values()].find((t) => t.domain === segment.toLowerCase());
  }

  addUser(upn: string, opts: { displayName?: string; timeZone?: string } = {}): User {
    const lower = upn.toLowerCase();
    const existing = this.userByUpn(lower);
    if (existing) return existing;
    const tenant = this.tenantFor(lower.split('@')[1] ?? 'example.com');
    const user: User = { id: randomUUID(), upn: lower, displayName: opts.displayName ?? lower.split('@')[0]!, tenantId: tenant.id, timeZone: opts.timeZone ?? 'UTC', tokensValidFromMs: 0 };
    this.users.set(user.id, user);
    return user;
  }

  userByUpn(upn: string): User | undefined {
    return [...this.users.values()].find((u) => u.upn === upn.toLowerCase());
  }

  /** A user by object id or UPN, as /users/{id | userPrincipalName} takes it. */
  userByIdOrUpn(key: string): User | undefined {
    return this.users.get(key) ?? this.userByUpn(key);
  }

  registerApp(a: { clientId: string; clientSecret?: string; certificates?: string[]; redirectUris?: string[]; name?: string }): App {
    const app: App = { clientId: a.clientId, certificates: (a.certificates ?? []).map((pem) => keyCredential(pem)), redirectUris: a.redirectUris ?? [], name: a.name ?? 'Kalends', needsAdminApproval: new Set() };
    if (a.clientSecret !== undefined) app.secret = a.clientSecret;
    this.apps.set(app.clientId, app);
    return app;
  }

  granted(userId: string, clientId: string): Set<string> {
    return this.grants.get(`${userId} ${clientId}`) ?? new Set();
  }

  grant(userId: string, clientId: string, permissions: Iterable<string>): void {
    const key = `${userId} ${clientId}`;
    const set = this.grants.get(key) ?? new Set<string>();
    for (const p of permissions) set.add(p);
    this.grants.set(key, set);
  }
}
