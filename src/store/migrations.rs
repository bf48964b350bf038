//! Migrations are compiled into the binary, one directory per dialect.

use std::borrow::Cow;

use sqlx::AnyPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../migrations/sqlite/0001_core.sql"),
    ),
    (
        2,
        "integrations",
        include_str!("../../migrations/sqlite/0002_integrations.sql"),
    ),
    (
        3,
        "console",
        include_str!("../../migrations/sqlite/0003_console.sql"),
    ),
    (
        4,
        "session indexes",
        include_str!("../../migrations/sqlite/0004_session_index.sql"),
    ),
    (
        5,
        "session expiry index",
        include_str!("../../migrations/sqlite/0005_session_expiry.sql"),
    ),
    (
        6,
        "clock-proof sessions",
        include_str!("../../migrations/sqlite/0006_clock_proof_sessions.sql"),
    ),
    (
        7,
        "sealed signing keys",
        include_str!("../../migrations/sqlite/0007_sealed_keys.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../migrations/postgres/0001_core.sql"),
    ),
    (
        2,
        "integrations",
        include_str!("../../migrations/postgres/0002_integrations.sql"),
    ),
    (
        3,
        "console",
        include_str!("../../migrations/postgres/0003_console.sql"),
    ),
    (
        4,
        "session indexes",
        include_str!("../../migrations/postgres/0004_session_index.sql"),
    ),
    (
        5,
        "session expiry index",
        include_str!("../../migrations/postgres/0005_session_expiry.sql"),
    ),
    (
        6,
        "clock-proof sessions",
        include_str!("../../migrations/postgres/0006_clock_proof_sessions.sql"),
    ),
    (
        7,
        "sealed signing keys",
        include_str!("../../migrations/postgres/0007_sealed_keys.sql"),
    ),
];

pub async fn run(pool: &AnyPool, backend: Backend) -> anyhow::Result<usize> {
    let source = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let migrations: Vec<Migration> = source
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    let count = migrations.len();
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    let mut attempt = 1;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(count),
            // sqlx takes no lock on SQLite: two processes opening one new file at once (a
            // server and a command, say) both see a migration pending and both apply it. Each
            // migration is one transaction, so the one that loses is undone as a whole (a
            // duplicate column, or SQLite's busy answer), and the next run finds it applied.
            Err(e) if backend == Backend::Sqlite && attempt < SQLITE_ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "migrations collided with another process; trying again");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How many times SQLite's migrations are run before their error is final (see [`run`]).
const SQLITE_ATTEMPTS: u64 = 5;
