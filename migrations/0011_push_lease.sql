-- Exchange's streaming notifications (issue 11) arrive on a connection a
-- worker holds open, not on an address Exchange posts to: one worker process
-- holds a connection's stream at a time. The worker that does writes its id
-- and renews the lease while it listens; another takes over only once the
-- lease has run out (the holder died), as a job's heartbeat works.
ALTER TABLE sync_connections
  ADD COLUMN push_lease_owner  text,
  ADD COLUMN push_lease_until  timestamptz;
