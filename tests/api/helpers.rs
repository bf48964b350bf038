//! `TestApp`: one running Porteiro per test, with its own database and a clock the test moves.

use std::sync::Arc;

use porteiro::app::Application;
use porteiro::auth::Auth;
use porteiro::auth::admin;
use porteiro::auth::hashing::hash_password;
use porteiro::auth::keys::Keys;
use porteiro::clock::{Clock, ManualClock, SystemClock};
use porteiro::config::{MasterKeySource, Settings};
use porteiro::domain::{OrgId, Role, Username};
use porteiro::store::Store;
use porteiro::tokens::master::MasterKey;
use reqwest::Response;
use secrecy::SecretString;
use serde_json::{Value, json};
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

    /// `POST /auth` with JSON credentials.
    pub async fn integration_login(&self, consumer_key: &str, secret_key: &str) -> Response {
        self.post_json(
            "/auth",
            &json!({"consumer_key": consumer_key, "secret_key": secret_key}),
        )
        .await
    }

    /// `POST /auth` that must succeed: the whole body.
    pub async fn integration_tokens(&self, consumer_key: &str, secret_key: &str) -> Value {
        let response = self.integration_login(consumer_key, secret_key).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// `POST /oauth/token` with HTTP Basic client authentication.
    pub async fn oauth_token(&self, client: (&str, &str), form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/oauth/token"))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// `POST` a form to an OAuth endpoint with HTTP Basic client authentication.
    pub async fn oauth_post(
        &self,
        path: &str,
        client: (&str, &str),
        form: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(path))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `POST /api/v1/auth/token/{org}/` with JSON credentials.
    pub async fn login_as(
        &self,
        org: impl std::fmt::Display,
        username: &str,
        password: &str,
    ) -> Response {
        self.post_json(
            &format!("/api/v1/auth/token/{org}/"),
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs the default member in and returns `(refresh, access)`.
    pub async fn login(&self) -> (String, String) {
        let response = self.login_as(self.org, &self.username, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        (
            body["refresh"].as_str().unwrap().to_owned(),
            body["access"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn refresh(&self, refresh: &str) -> Response {
        self.post_json("/api/v1/auth/token-refresh/", &json!({"refresh": refresh}))
            .await
    }

    pub async fn verify(&self, token: &str) -> Response {
        self.post_json("/api/v1/auth/token-verify/", &json!({"token": token}))
            .await
    }

    pub async fn blacklist(&self, refresh: &str) -> Response {
        self.post_json(
            "/api/v1/auth/token-blacklist/",
            &json!({"refresh": refresh}),
        )
        .await
    }

    /// `GET /api/v1/me` with the given `Authorization` header, if any.
    pub async fn me_with(&self, authorization: Option<&str>) -> Response {
        let mut request = self.client.get(self.url("/api/v1/me"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.unwrap()
    }

    pub async fn me(&self, access: &str) -> Response {
        self.me_with(Some(&format!("Bearer {access}"))).await
    }
}

/// The claims of a JWT, read without verification.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The header of a JWT, read without verification.
pub fn header(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Asserts status and exact JSON body.
pub async fn assert_json(response: Response, status: u16, expected: Value) {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, expected);
}

/// Asserts status and the body's bytes: for key order and exact shape.
pub async fn assert_body_text(response: Response, status: u16, expected: &str) {
    assert_eq!(response.status(), status, "unexpected status");
    assert_eq!(response.text().await.unwrap(), expected);
}

/// The 401 of the token endpoints.
pub const TOKEN_NOT_VALID: &str =
    r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#;
/// The 401 of bearer-authenticated endpoints for a bad token.
pub const BEARER_NOT_VALID: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}"#;
pub const NO_ACTIVE_ACCOUNT: &str =
    r#"{"detail":"No active account found with the given credentials"}"#;
