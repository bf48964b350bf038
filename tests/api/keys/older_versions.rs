//! A database an older version left, with its keys in clear text: sealed at the first start.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use porteiro::app::Application;
use porteiro::config::{Algorithm, MasterKeySource};
use porteiro::tokens::keys::generate_private_key;
use porteiro::tokens::master::MasterKey;
use serde_json::json;
use sqlx::Connection;
use tempfile::TempDir;

use super::{EC_PUBLIC_KEY_OID, database_contains, inline};
use crate::helpers::*;

/// A database as an older version left it: the migrations before sealed keys, and two keys in
/// clear text, the later of which signs. Answers its URL and the two DER keys.
async fn database_of_an_older_version(dir: &TempDir) -> (String, Vec<(String, Vec<u8>)>) {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    sqlx::any::install_default_drivers();
    let url = fresh_database(dir).await;
    let dialect = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let migrations: Vec<Migration> = files
        .iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            let version: i64 = name[..4].parse().ok()?;
            (version <= 5).then(|| {
                Migration::new(
                    version,
                    Cow::Owned(name),
                    MigrationType::Simple,
                    Cow::Owned(std::fs::read_to_string(path).unwrap()),
                    false,
                )
            })
        })
        .collect();
    assert_eq!(migrations.len(), 5);
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    let connect_url = if dialect == "sqlite" {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let mut conn = sqlx::AnyConnection::connect(&connect_url).await.unwrap();
    migrator.run(&mut conn).await.unwrap();
    let now = porteiro::clock::Clock::now(&porteiro::clock::SystemClock);
    let mut keys = Vec::new();
    for (kid, activates) in [
        ("0123456789abcdef", now - 7200),
        ("fedcba9876543210", now - 60),
    ] {
        let der = generate_private_key(Algorithm::ES256).unwrap();
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, activates_at) \
             VALUES ($1, 'ES256', $2, $3, $3)",
        )
        .bind(kid)
        .bind(der.clone())
        .bind(activates)
        .execute(&mut conn)
        .await
        .unwrap();
        keys.push((kid.to_owned(), der));
    }
    conn.close().await.unwrap();
    (url, keys)
}

#[tokio::test]
async fn clear_text_keys_of_an_older_database_are_sealed_at_its_first_start_and_still_sign() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let (url, legacy) = database_of_an_older_version(&dir).await;

    let app = TestApp::spawn_on(dir, url, |_| {}).await;

    let (_, access) = app.login().await;
    assert_eq!(header(&access)["kid"], json!(legacy[1].0));
    assert_eq!(app.me(&access).await.status(), 200);
    let stored = app.auth.store().list_keys().await.unwrap();
    assert_eq!(
        stored.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        [legacy[0].0.as_str(), legacy[1].0.as_str()]
    );
    assert!(stored.iter().all(|k| k.sealed), "{stored:?}");
    assert!(app.auth.store().key_check().await.unwrap().is_some());
    for (kid, der) in &legacy {
        assert!(
            !database_contains(&app, der).await,
            "the clear-text key {kid} is still in the database"
        );
    }
    assert!(!database_contains(&app, EC_PUBLIC_KEY_OID).await);
}

#[tokio::test]
async fn several_instances_starting_at_once_on_an_older_database_all_start_with_its_keys_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, legacy) = database_of_an_older_version(&dir).await;
    let mut settings = test_settings(url);
    if matches!(settings.master_key, MasterKeySource::Default) {
        // On SQLite too, every instance must find the same key, whoever creates the file.
        settings.master_key = inline(&MasterKey::generate().unwrap());
    }
    // Migrated first: several SQLite processes migrating one file at once is another matter.
    let store = porteiro::store::Store::connect(
        &settings.database,
        2,
        Duration::from_secs(5),
        settings.sqlite_synchronous,
    )
    .await
    .unwrap();
    store.close().await;
    let clock = Arc::new(porteiro::clock::SystemClock);

    let starts = (0..4).map(|_| Application::build(settings.clone(), clock.clone()));
    let apps = futures_util::future::join_all(starts).await;

    for app in &apps {
        assert!(app.is_ok(), "{:#}", app.as_ref().err().unwrap());
    }
    let store = &apps[0].as_ref().unwrap().state().auth.store();
    let stored = store.list_keys().await.unwrap();
    assert!(stored.iter().all(|k| k.sealed), "{stored:?}");
    let signing = apps[0]
        .as_ref()
        .unwrap()
        .state()
        .auth
        .tokens()
        .ring
        .signing_key(porteiro::clock::Clock::now(&porteiro::clock::SystemClock))
        .unwrap();
    assert_eq!(signing.kid, legacy[1].0);
}
