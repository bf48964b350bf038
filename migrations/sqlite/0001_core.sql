-- Times are integer seconds since the Unix epoch, so both dialects compare them alike.
CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX memberships_org ON memberships (org_id);

-- One row per login: the refresh-token family. Only digests of refresh jtis are kept.
CREATE TABLE sessions (
    sid                 TEXT    PRIMARY KEY,
    kind                TEXT    NOT NULL,
    user_id             INTEGER REFERENCES users (id) ON DELETE CASCADE,
    org_id              INTEGER NOT NULL,
    client_addr         TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER NOT NULL,
    current_jti_digest  TEXT    NOT NULL,
    current_exp         INTEGER NOT NULL,
    previous_jti_digest TEXT,
    rotated_at          INTEGER,
    ended_at            INTEGER,
    end_reason          TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_ended ON sessions (ended_at);

CREATE TABLE login_attempts (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    locked_until INTEGER
);

CREATE TABLE signing_keys (
    kid          TEXT    PRIMARY KEY,
    algorithm    TEXT    NOT NULL,
    private_key  BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    activates_at INTEGER NOT NULL
);

-- Claimed once, inside the transaction that performs the first start.
CREATE TABLE bootstrap (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL
);
