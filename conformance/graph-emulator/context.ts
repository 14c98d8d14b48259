// What every Graph handler sees: the caller (from the bearer token), the
// Prefer header's wishes, and the emulator's shared state.
import type { Clock } from './clock.ts';
import type { Directory, User } from './directory.ts';
import type { AccessToken, Identity } from './identity.ts';
import type { Mailboxes } from './mailbox.ts';
import { GraphError, graphErrors } from './errors.ts';

export type Change = { userId: string; container: string; kind: 'event' | 'todoTask'; immutableId: string; restId: string; changeType: 'created' | 'updated' | 'deleted'; etag: string };
export type SentMail = { kind: 'invitation' | 'update' | 'cancellation'; eventId: string; subject: string; to: string[] };

export type Shared = {
  dir: Directory;
  identity: Identity;
  mail: Mailboxes;
  clock: Clock;
  baseUrl: () => string;
  sentMail: SentMail[];
  changed: (c: Change) => void;
};

/** Prefer: outlook.timezone="…", IdType="ImmutableId", odata.maxpagesize=N (each documented on its feature page). */
export type Prefs = { timeZone: string; immutableIds: boolean; maxPageSize?: number };

export type Call = {
  s: Shared;
  token: AccessToken;
  user: User;
  prefs: Prefs;
  query: URLSearchParams;
  body: () => Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The request path below /v1.0 with the user segment as given ("/me" or "/users/{id}"). */
  userPath: string;
};

export function parsePrefer(header: string | string[] | undefined): Prefs {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const prefs: Prefs = { timeZone: 'UTC', immutableIds: false };
  for (const m of text.matchAll(/([\w.]+)\s*=\s*("([^"]*)"|[^,;\s]+)/g)) {
    const name = m[1]!.toLowerCase();
    const value = m[3] ?? m[2]!;
    if (name === 'outlook.timezone') prefs.timeZone = value;
    else if (name === 'idtype') prefs.immutableIds = value.toLowerCase() === 'immutableid';
    else if (name === 'odata.maxpagesize' && /^\d+$/.test(value)) prefs.maxPageSize = Number(value);
  }
  return prefs;
}

/**
 * Permission check: a delegated token needs one of the scopes, an app-only
 * token one of the roles (permissions-reference.md names each).
 */
export function need(call: Call, ...permissions: string[]): void {
  const held = call.token.userId ? call.token.scopes : call.token.roles;
  if (!permissions.some((p) => held.has(p))) throw graphErrors.accessDenied();
}

export function idOf(call: Call, immutableId: string, restId: string): string {
  return call.prefs.immutableIds ? immutableId : restId;
}

export { GraphError };
