-- The running sync's figures for "Sync now" (issue 16): items read and
-- written so far in this run and how many the run still has to write,
-- {"in": n, "out": n, "left": n}. The engine writes it at each phase and
-- every few dozen items (never a query per item) and clears it when the run
-- ends; any process serving the page reads it from here.
ALTER TABLE sync_connections ADD COLUMN progress jsonb;
