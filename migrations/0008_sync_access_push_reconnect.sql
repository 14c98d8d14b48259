-- Google sync (issue 17). The OAuth access token lives an hour: it is kept,
-- sealed, where every process finds it, instead of being fetched again by
-- every run. Push health: when the last notification of which channel
-- arrived, and why push is not arriving as a run found it. A disconnected
-- connection is kept (options, log) for a reconnect to the same account.
ALTER TABLE sync_connections
  ADD COLUMN access_sealed      text,
  ADD COLUMN access_expires_at  timestamptz,
  ADD COLUMN push_seen_at       timestamptz,
  ADD COLUMN push_seen_channel  text,
  ADD COLUMN push_problem       text,
  ADD COLUMN push_problem_at    timestamptz,
  ADD COLUMN disconnected_at    timestamptz;
