-- Two-way sync with external calendars (Google now, Exchange and Graph next).
-- The engine is provider-independent: a connection per user and account, a
-- link per CRM item and remote item, cursors per direction, and a log the
-- user and the admin read. pg-boss keeps its own tables in schema pgboss.

-- What an admin enabled for the organisation: client ids in settings, the
-- client secret or service-account key sealed with KALENDS_SECRET_KEY.
CREATE TABLE integrations (
  org_id         bigint NOT NULL REFERENCES orgs(id),
  provider       text NOT NULL CHECK (provider IN ('google', 'exchange', 'graph')),
  enabled        boolean NOT NULL DEFAULT true,
  settings       jsonb NOT NULL DEFAULT '{}'::jsonb,
  secret_sealed  text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, provider)
);

CREATE TABLE sync_connections (
  id                bigserial PRIMARY KEY,
  user_id           bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider          text NOT NULL CHECK (provider IN ('google', 'exchange', 'graph')),
  -- the external account, e.g. the Google address
  account           text NOT NULL,
  auth_kind         text NOT NULL CHECK (auth_kind IN ('oauth', 'delegation', 'password')),
  -- refresh token or password, sealed
  credentials_sealed text,
  options           jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- green/red: 'ok', 'error' (with reason), 'pending' before the first sync
  state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ok', 'error')),
  state_reason      text,
  state_at          timestamptz NOT NULL DEFAULT now(),
  -- when the credentials were refused; jobs skip the connection until reconnect
  auth_failed_at    timestamptz,
  last_success_at   timestamptz,
  -- outbound: the journal's last sequence number this connection has seen
  journal_seq       bigint NOT NULL DEFAULT 0,
  -- inbound: opaque provider cursors per collection, e.g. {"events": "<syncToken>"}
  cursors           jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- push channel, e.g. Google's {id, resourceId, expiration, tokenSha256}
  channel           jsonb,
  items_in          integer NOT NULL DEFAULT 0,
  items_out         integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sync_connections_account ON sync_connections (user_id, provider, lower(account));

-- CRM item <-> remote item. written_hash is the hash of what Kalends last
-- wrote (or read) on the remote side: an incoming item with that hash is our
-- own echo. remote_id is null while a create is in flight (crash recovery).
CREATE TABLE sync_links (
  connection_id  bigint NOT NULL REFERENCES sync_connections(id) ON DELETE CASCADE,
  item_kind      text NOT NULL CHECK (item_kind IN ('appointment', 'task')),
  item_id        bigint NOT NULL,
  remote_id      text,
  remote_etag    text,
  written_hash   text,
  -- hash of the CRM side as last synced: a different one means the CRM changed since
  crm_hash       text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, item_kind, item_id)
);
CREATE UNIQUE INDEX sync_links_remote ON sync_links (connection_id, item_kind, remote_id);

CREATE TABLE sync_log (
  id             bigserial PRIMARY KEY,
  connection_id  bigint NOT NULL REFERENCES sync_connections(id) ON DELETE CASCADE,
  at             timestamptz NOT NULL DEFAULT now(),
  direction      text NOT NULL CHECK (direction IN ('in', 'out', 'none')),
  action         text NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'reverted', 'linked', 'error', 'info')),
  item_kind      text,
  item_id        bigint,
  remote_id      text,
  message        text NOT NULL
);
CREATE INDEX sync_log_connection ON sync_log (connection_id, id);

-- OAuth consent in flight: state parameter -> who asked (single use, short-lived)
CREATE TABLE oauth_states (
  state_sha256   text PRIMARY KEY,
  user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider       text NOT NULL,
  connection_id  bigint,
  expires_at     timestamptz NOT NULL
);
