//! Databases for tests: a fresh one per test (PostgreSQL under `scripts/with-postgres`, SQLite
//! otherwise), the store alone on one, and the settings an app runs with on it.

use porteiro::config::{MasterKeySource, Settings};
use porteiro::domain::OrgId;
use porteiro::store::Store;
use porteiro::tokens::master::MasterKey;
use secrecy::SecretString;
use tempfile::TempDir;

/// The PostgreSQL cluster to test against, when `scripts/with-postgres` provides one.
pub fn postgres_base() -> Option<String> {
    std::env::var("PORTEIRO_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh, empty database: a new PostgreSQL database on the test cluster when there is one,
/// otherwise a SQLite file in `dir`.
pub async fn fresh_database(dir: &TempDir) -> String {
    match postgres_base() {
        Some(base) => {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let name = format!("t_{}", porteiro::tokens::claims::random_id());
            let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap();
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            conn.close().await.unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
        None => format!("sqlite://{}/porteiro.db", dir.path().display()),
    }
}

/// The store alone on a fresh database with one organization, for tests of its statements.
pub struct StoreFixture {
    pub store: Store,
    pub org: OrgId,
    /// The database's URL, for a second connection of the test's own.
    pub url: String,
    /// Keeps a SQLite database alive as long as the store.
    pub dir: TempDir,
}

pub async fn store_with_org() -> StoreFixture {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let store = Store::connect(
        &url,
        4,
        std::time::Duration::from_secs(5),
        Default::default(),
    )
    .await
    .unwrap();
    let org = OrgId::from_db(store.create_org("Acme", 0).await.unwrap().id);
    StoreFixture {
        store,
        org,
        url,
        dir,
    }
}

/// Settings for tests: port 0, the given database, argon2 cheap enough for debug builds. On
/// PostgreSQL, which has no default master key, a fresh one inline (the instances of one test
/// share it through their settings); on SQLite, the default file beside the database.
pub fn test_settings(database: String) -> Settings {
    let mut settings = Settings::from_flags([
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
        "--argon2-memory-kib",
        "1024",
        "--argon2-iterations",
        "1",
    ])
    .unwrap();
    if settings.database.starts_with("postgres") {
        settings.master_key = MasterKeySource::Inline(new_master_key());
    }
    settings
}

/// A fresh master key, as `PORTEIRO_MASTER_KEY` would hold it.
pub fn new_master_key() -> SecretString {
    MasterKey::generate().unwrap().to_base64()
}
