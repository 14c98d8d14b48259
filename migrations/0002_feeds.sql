-- iCal feeds: secret subscription links per calendar (or per user for all
-- their favourite calendars), the per-user calendar switches they depend on,
-- and who polls them.

-- Per user and calendar: a favourite (goes into the user's favourites feed)
-- and the "allow export" switch. allow_export null = the default: on for the
-- user's own calendars, for calendars shared by others only when the owner
-- allows it (calendar_export_policy).
CREATE TABLE calendar_user_prefs (
  calendar_id   bigint NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  favourite     boolean NOT NULL DEFAULT false,
  allow_export  boolean,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (calendar_id, user_id)
);
CREATE INDEX calendar_user_prefs_user ON calendar_user_prefs (user_id);

-- The owner's (for the company calendar: an admin's) word on whether people
-- the calendar is shared with may publish it as a feed. No row = they may not.
CREATE TABLE calendar_export_policy (
  calendar_id         bigint PRIMARY KEY REFERENCES calendars(id) ON DELETE CASCADE,
  sharees_may_export  boolean NOT NULL DEFAULT false,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feeds (
  id            bigserial PRIMARY KEY,
  org_id        bigint NOT NULL REFERENCES orgs(id),
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  scope         text NOT NULL CHECK (scope IN ('calendar', 'favourites')),
  calendar_id   bigint REFERENCES calendars(id) ON DELETE CASCADE,
  busy_only     boolean NOT NULL DEFAULT false,
  name          text NOT NULL DEFAULT '',
  -- the secret is 256 random bits; only its SHA-256 is kept
  token_sha256  text NOT NULL,
  -- the secret's first characters, so the owner can tell links apart
  token_hint    text NOT NULL,
  generation    integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  rotated_at    timestamptz,
  revoked_at    timestamptz,
  last_fetched_at  timestamptz,
  last_user_agent  text,
  fetch_count      bigint NOT NULL DEFAULT 0,
  CHECK ((scope = 'calendar') = (calendar_id IS NOT NULL))
);
CREATE UNIQUE INDEX feeds_token ON feeds (token_sha256);
CREATE INDEX feeds_user ON feeds (user_id);

-- Who polls a feed: one row per user agent.
CREATE TABLE feed_clients (
  feed_id     bigint NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  user_agent  text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  fetches     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (feed_id, user_agent)
);
