-- The admin API and the console list an organization's open sessions and its activity newest
-- first, a page at a time. With indexes in that order a page reads only its own rows: before,
-- every open session or every event of the organization was read and sorted for each page, which
-- grows with the organization (a large customer has hundreds of thousands of each).
-- Building them reads each table once, at the first start of this version.
DROP INDEX sessions_org_open;
CREATE INDEX sessions_org_open ON sessions (org_id, created_at) WHERE ended_at IS NULL;
DROP INDEX audit_events_org_at;
CREATE INDEX audit_events_org ON audit_events (org_id, id);
