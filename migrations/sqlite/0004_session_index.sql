-- Administrators list and end the open sessions of their organization.
CREATE INDEX sessions_org ON sessions (org_id, ended_at);
