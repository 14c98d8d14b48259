-- Failed sign-ins slow the next attempt down (a wait after the latest
-- failure, growing with the count) instead of locking the key for the whole
-- window, so each row remembers when its latest failure was.
ALTER TABLE login_failures ADD COLUMN last_failure_at timestamptz NOT NULL DEFAULT now();
