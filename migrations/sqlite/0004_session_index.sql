-- Every login writes a session row, so every index on sessions is paid on the hottest write path.
-- Each index holds only the rows its queries look for: a user's sessions, an integration's, the
-- ended ones (polled by every instance) and the open ones of an organization (administrators list
-- and end them).
DROP INDEX sessions_user;
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
DROP INDEX sessions_integration;
CREATE INDEX sessions_integration ON sessions (integration_id) WHERE integration_id IS NOT NULL;
DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX sessions_org_open ON sessions (org_id) WHERE ended_at IS NULL;
