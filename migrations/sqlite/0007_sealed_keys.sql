-- Signing keys in creation order, encrypted at rest, and withdrawable.
--
-- `seq` is the order of creation, assigned by the database: timestamps are whole seconds, so
-- two keys created within one second could not be told apart. SQLite cannot add such a column,
-- so the table is rebuilt, its rows copied in the order that held until now.
-- `private_key` is `nonce || AES-256-GCM ciphertext` under the master key when `sealed` is 1;
-- the clear-text PKCS#8 rows of older versions (`sealed` 0) are encrypted by the first start of
-- this version. `retired_at`: when `keys retire` withdrew the key.
CREATE TABLE signing_keys_sealed (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    kid          TEXT    NOT NULL UNIQUE,
    algorithm    TEXT    NOT NULL,
    private_key  BLOB    NOT NULL,
    sealed       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    retired_at   INTEGER
);
INSERT INTO signing_keys_sealed (kid, algorithm, private_key, created_at, activates_at)
SELECT kid, algorithm, private_key, created_at, activates_at FROM signing_keys
ORDER BY activates_at, created_at, kid;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_sealed RENAME TO signing_keys;

-- The key-check value of the master key the signing keys are sealed under (one row, id 1): a
-- wrong master key is then told apart from a damaged row.
CREATE TABLE key_check (
    id          INTEGER PRIMARY KEY,
    check_value BLOB    NOT NULL
);
