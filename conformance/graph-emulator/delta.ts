// Delta rounds (concepts/delta-query-overview.md, concepts/delta-query-events.md,
// api-reference/v1.0/api/event-delta.md): a round compares what the client was
// last shown (the snapshot its deltaLink names) with what is there now, pages
// the differences with @odata.nextLink ($skiptoken), and ends with an
// @odata.deltaLink ($deltatoken) naming the new snapshot. Removed items are
// `{id, @removed: {reason: 'deleted'}}`. Tokens are opaque base64url JSON
// that carry the query (for events, the window), as Graph encodes it.
import { randomBytes } from 'node:crypto';
import { GraphError } from './errors.ts';

export type Tracked = { id: string; version: string; render: () => Record<string, unknown> };
type Round = { owner: string; snapshot: Map<string, string>; query: Record<string, unknown> };
type Page = { entries: Record<string, unknown>[]; offset: number; nextRound: string; query: Record<string, unknown> };

const DEFAULT_PAGE = 10;

export class DeltaRounds {
  readonly #rounds = new Map<string, Round>();
  readonly #pages = new Map<string, Page>();

  #token(id: string, query: Record<string, unknown>): string {
    return Buffer.from(JSON.stringify({ ...query, r: id })).toString('base64url');
  }

  /** The query a token carries, or 410 syncStateNotFound once it expired (delta-query-overview.md, "Token duration"). */
  queryOf(token: string): Record<string, unknown> {
    try {
      return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new GraphError(400, 'BadRequest', 'The delta token is not valid.');
    }
  }

  /**
   * One page: `skip` continues a round, `delta` starts a round from a
   * snapshot, neither starts from nothing (an initial sync).
   */
  page(args: { owner: string; odataType: string; current: () => Tracked[]; skip?: string; delta?: string; query: Record<string, unknown>; pageSize?: number; link: (param: string, token: string) => string; initialUrl: string }): { body: Record<string, unknown>; headers: Record<string, string> } {
    const gone = () => new GraphError(410, 'syncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.', { location: args.initialUrl });
    let page: Page | undefined;
    let pageId: string;
    if (args.skip !== undefined) {
      pageId = String(this.queryOf(args.skip).r);
      page = this.#pages.get(pageId);
      if (!page) throw gone();
    } else {
      let snapshot = new Map<string, string>();
      if (args.delta !== undefined) {
        const round = this.#rounds.get(String(this.queryOf(args.delta).r));
        if (!round || round.owner !== args.owner) throw gone();
        snapshot = round.snapshot;
      }
      const now = args.current();
      const entries: Record<string, unknown>[] = [];
      const seen = new Set<string>();
      for (const t of now) {
        seen.add(t.id);
        if (snapshot.get(t.id) !== t.version) entries.push(t.render());
      }
      for (const id of snapshot.keys()) if (!seen.has(id)) entries.push({ '@odata.type': `#${args.odataType}`, id, '@removed': { reason: 'deleted' } });
      const nextRound = randomBytes(12).toString('base64url');
      this.#rounds.set(nextRound, { owner: args.owner, snapshot: new Map(now.map((t) => [t.id, t.version])), query: args.query });
      page = { entries, offset: 0, nextRound, query: args.query };
      pageId = randomBytes(12).toString('base64url');
      this.#pages.set(pageId, page);
    }
    const size = Math.max(1, args.pageSize ?? DEFAULT_PAGE);
    const value = page.entries.slice(page.offset, page.offset + size);
    const body: Record<string, unknown> = { value };
    if (page.offset + size < page.entries.length) {
      const next = randomBytes(12).toString('base64url');
      this.#pages.set(next, { ...page, offset: page.offset + size });
      body['@odata.nextLink'] = args.link('$skiptoken', this.#token(next, page.query));
    } else body['@odata.deltaLink'] = args.link('$deltatoken', this.#token(page.nextRound, page.query));
    this.#pages.delete(pageId);
    const headers: Record<string, string> = args.pageSize !== undefined ? { 'preference-applied': `odata.maxpagesize=${size}` } : {};
    return { body, headers };
  }

  /** Every token handed out so far answers 410 from now on (the delta token cache dropped them). */
  expireAll(owner?: string): void {
    for (const [id, r] of this.#rounds) if (!owner || r.owner === owner) this.#rounds.delete(id);
    this.#pages.clear();
  }
}
