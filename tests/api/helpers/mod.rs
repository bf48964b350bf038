//! `TestApp`: one running Porteiro per test, with its own database and a clock the test moves,
//! set up here; its requests, one method per endpoint, in `requests`. The databases of tests are
//! made in `database`, and answers read in `answers`.

mod answers;
mod database;
mod requests;
mod venv;

pub use answers::{
    BEARER_NOT_VALID, NO_ACTIVE_ACCOUNT, TOKEN_NOT_VALID, assert_body_text, assert_json, claims,
    header,
};
pub use database::{
    StoreFixture, fresh_database, new_master_key, postgres_base, store_with_org, test_settings,
};

use std::sync::Arc;

use porteiro::app::Application;
use porteiro::auth::Auth;
use porteiro::auth::admin;
use porteiro::auth::hashing::hash_password;
use porteiro::auth::keys::Keys;
use porteiro::clock::{Clock, ManualClock, SystemClock};
use porteiro::config::Settings;
use porteiro::domain::{OrgId, Role, Username};
use secrecy::SecretString;
use tempfile::TempDir;

pub const PASSWORD: &str = "StrongPassword123";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub auth: Arc<Auth>,
    pub settings: Arc<Settings>,
    pub org: OrgId,
    pub username: String,
    /// Keeps the database alive as long as the app (and its other instances).
    _dir: Arc<TempDir>,
}

impl TestApp {
    /// An app with organization 1 and one member, `dev@example.com.br`, with [`PASSWORD`].
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let database = fresh_database(&dir).await;
        Self::spawn_on(dir, database, configure).await
    }

    /// An app on a given (empty) database, seeded like [`TestApp::spawn`].
    pub async fn spawn_on(
        dir: Arc<TempDir>,
        database: String,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut settings = test_settings(database);
        configure(&mut settings);
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let now = clock.now();
        let mut app = Self::start(settings, clock, dir, OrgId::from_db(1)).await;
        let org = admin::Administration::operator(app.auth.store())
            .create_org("Acme", now)
            .await
            .unwrap();
        app.org = OrgId::from_db(org.id);
        app.create_user(app.org, &app.username, PASSWORD, Role::Member)
            .await;
        app
    }

    /// A second instance of the same service: same database, issuer, settings and clock.
    pub async fn another_instance(&self) -> Self {
        let mut settings = (*self.settings).clone();
        settings.listen = "127.0.0.1:0".parse().unwrap();
        settings.issuer = Some(self.auth.tokens().issuer.clone());
        Self::start(settings, self.clock.clone(), self._dir.clone(), self.org).await
    }

    async fn start(
        settings: Settings,
        clock: Arc<ManualClock>,
        dir: Arc<TempDir>,
        org: OrgId,
    ) -> Self {
        let app = Application::build(settings, clock.clone()).await.unwrap();
        let address = format!("http://{}", app.local_addr());
        let auth = app.state().auth.clone();
        let settings = app.state().settings.clone();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            clock,
            auth,
            settings,
            org,
            username: "dev@example.com.br".into(),
            _dir: dir,
        }
    }

    /// The directory holding the database file and its WAL.
    pub fn database_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// On PostgreSQL, every row of every table as text; `None` on SQLite (read the files instead).
    pub async fn all_rows_as_text(&self) -> Option<Vec<String>> {
        use sqlx::{Connection, Row};
        postgres_base()?;
        let mut conn = sqlx::AnyConnection::connect(&self.settings.database)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut rows = Vec::new();
        for table in tables {
            let sql = format!("SELECT t::text FROM {table} t");
            for row in sqlx::query(&sql).fetch_all(&mut conn).await.unwrap() {
                rows.push(row.get::<String, _>(0));
            }
        }
        Some(rows)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Creates a signing key that is published at once and signs `activates_in` seconds from
    /// now (the ring reloads itself).
    pub async fn create_key(&self, activates_in: i64) -> porteiro::store::NewKey {
        let now = self.now();
        let ring = &self.auth.tokens().ring;
        Keys::of_ring(self.auth.store(), ring)
            .create_and_reload(ring, now, now + activates_in)
            .await
            .unwrap()
    }

    pub async fn create_org(&self, name: &str) -> OrgId {
        let org = admin::Administration::operator(self.auth.store())
            .create_org(name, self.now())
            .await
            .unwrap();
        OrgId::from_db(org.id)
    }

    pub async fn create_user(&self, org: OrgId, username: &str, password: &str, role: Role) -> i64 {
        let hash = hash_password(&SecretString::from(password), self.settings.argon2).unwrap();
        self.create_member(org, username, &hash, role).await
    }

    /// A member of `org` whose password hash is `hash`, made however the test likes.
    pub async fn create_user_with_hash(&self, org: OrgId, username: &str, hash: &str) -> i64 {
        self.create_member(org, username, hash, Role::Member).await
    }

    async fn create_member(&self, org: OrgId, username: &str, hash: &str, role: Role) -> i64 {
        let username = Username::parse(username).unwrap();
        admin::Administration::operator(self.auth.store())
            .create_user(org, &username, role, hash, self.now())
            .await
            .unwrap()
            .id
    }

    /// Creates an integration in the default organization: `(consumer_key, secret_key)`.
    pub async fn create_integration(&self, scopes: &[&str]) -> (String, String) {
        let scopes = porteiro::domain::Scopes::parse(scopes).unwrap();
        let (record, secret) = admin::Administration::operator(self.auth.store())
            .create_integration(self.org, "Billing", &scopes, self.now())
            .await
            .unwrap();
        (record.consumer_key, secret.expose().to_owned())
    }
}
pub use venv::python_venv;
