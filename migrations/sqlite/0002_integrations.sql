-- Machine clients of one organization. Only a SHA-256 digest of each secret key is kept.
CREATE TABLE integrations (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    consumer_key  TEXT    NOT NULL UNIQUE,
    secret_digest TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    scopes        TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX integrations_org ON integrations (org_id);

ALTER TABLE sessions ADD COLUMN integration_id INTEGER REFERENCES integrations (id) ON DELETE CASCADE;
CREATE INDEX sessions_integration ON sessions (integration_id);
