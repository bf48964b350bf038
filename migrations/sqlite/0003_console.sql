-- What happened, newest first per organization: logins, failures, lockouts and every change.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT,
    subject     TEXT,
    client_addr TEXT,
    detail      TEXT
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

-- Signed-in console browsers. The cookie holds a random token; only its digest is kept.
CREATE TABLE console_sessions (
    token_digest TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id       INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);
