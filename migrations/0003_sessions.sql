-- Web sessions of the pages under /: the cookie holds 256 random bits, only
-- their SHA-256 is stored, so every process sees the same sessions and a
-- leaked table does not sign anyone in. csrf_token is the synchronizer token
-- every form of the session carries.
CREATE TABLE web_sessions (
  id_sha256     text PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
