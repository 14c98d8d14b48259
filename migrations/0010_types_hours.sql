-- The web grid (issue 16). Types get a colour for the calendar cards and can
-- be retired: a retired type stays on the items that carry it (and in their
-- iCalendar bodies) but is no longer offered for new ones. Each user has
-- working hours, shown as the grid's business hours.
ALTER TABLE item_types
  ADD COLUMN color   text,
  ADD COLUMN retired boolean NOT NULL DEFAULT false;

ALTER TABLE users
  ADD COLUMN work_start text NOT NULL DEFAULT '08:00',
  ADD COLUMN work_end   text NOT NULL DEFAULT '17:00',
  ADD COLUMN work_days  text NOT NULL DEFAULT '1,2,3,4,5';
