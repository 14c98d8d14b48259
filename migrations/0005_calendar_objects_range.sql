-- A time-range query (a month of a CalDAV calendar) filtered on
-- (calendar_id, first_start) read every earlier object of the calendar to
-- test last_end: its cost grew with the calendar, not with the answer. A GiST
-- index on the inclusive span answers "overlaps [start, end]" directly.
-- NULL bounds are unbounded (first_start NULL: no start known; last_end NULL:
-- recurs without end). An end before the start (never written by the index
-- code, but not forbidden by the table) is taken as the start, so building
-- the range can never fail; the query uses the same expression and the exact
-- test stays the caller's.
CREATE INDEX calendar_objects_range ON calendar_objects USING gist
  (tstzrange(first_start, CASE WHEN last_end < first_start THEN first_start ELSE last_end END, '[]'));
