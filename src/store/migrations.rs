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
    (
        8,
        "list indexes",
        include_str!("../../migrations/sqlite/0008_list_indexes.sql"),
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
    (
        8,
        "list indexes",
        include_str!("../../migrations/postgres/0008_list_indexes.sql"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file added to `migrations/` but not to the lists above would never run, and nothing
    /// else would say so: every file is listed, in order, under its own number.
    #[test]
    fn every_migration_file_is_compiled_in_under_its_number() {
        for (dialect, listed) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dialect);
            let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
                .expect("the migrations directory")
                .map(|entry| {
                    let name = entry.expect("an entry").file_name();
                    let name = name.to_string_lossy().into_owned();
                    let number = name[..4].parse().expect("a numbered file");
                    let text = std::fs::read_to_string(dir.join(&name)).expect("a file");
                    (number, text)
                })
                .collect();
            files.sort();
            let compiled: Vec<(i64, String)> = listed
                .iter()
                .map(|(version, _, sql)| (*version, (*sql).to_owned()))
                .collect();
            assert_eq!(compiled, files, "migrations/{dialect} and its list differ");
        }
    }
}
