-- The admin API and the console list an organization's members, its open sessions and its
-- activity a page at a time (keyset pagination: members by user id, sessions newest first by
-- creation then id, events newest first by id). With indexes in those orders a page reads only
-- its own rows: before, every member, open session or event of the organization was read and
-- sorted for each page, which grows with the organization (a large customer has hundreds of
-- thousands of each). Building them reads each table once, at the first start of this version.
DROP INDEX memberships_org;
CREATE INDEX memberships_org ON memberships (org_id, user_id);
DROP INDEX sessions_org_open;
CREATE INDEX sessions_org_open ON sessions (org_id, created_at, sid) WHERE ended_at IS NULL;
DROP INDEX audit_events_org_at;
CREATE INDEX audit_events_org ON audit_events (org_id, id);
