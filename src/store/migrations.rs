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
    migrator.run(pool).await?;
    Ok(count)
}
