-- Each user's language for the web pages (NULL: the organisation's default,
-- kept in orgs.settings.defaultLanguage, else the browser's Accept-Language),
-- and whether they have confirmed their time zone: until they have, the pages
-- offer the zone their browser reports.
ALTER TABLE users ADD COLUMN language text;
ALTER TABLE users ADD COLUMN timezone_confirmed boolean NOT NULL DEFAULT false;
