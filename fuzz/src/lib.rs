//! What the fuzz targets share: a Porteiro over a temporary SQLite database, driven in-process
//! through its axum `Router` on a current-thread runtime, and a plain-text request format that
//! keeps the seed corpora readable.
//!
//! A request input reads like HTTP/1.1 without the version:
//!
//! ```text
//! POST /api/v1/auth/token/{org}
//! content-type: application/json
//! accept-language: pt-BR
//!
//! {"username": "member@example.com", "password": "{password}"}
//! ```
//!
//! Before parsing, placeholders such as `{admin}` or `{csrf}` are replaced by the live values of
//! the running server (see [`Server::expand`]), so seeds reach past authentication while the
//! fuzzer stays free to mutate them away.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use base64::Engine;
use porteiro::app::{AppState, Application};
use porteiro::auth::admin::Administration;
use porteiro::auth::hashing::hash_password;
use porteiro::clock::{Clock, ManualClock, SystemClock};
use porteiro::config::Settings;
use porteiro::domain::{OrgId, Role, Scopes, Username};
use secrecy::SecretString;
use tower::ServiceExt;

/// The password of every account the server starts with.
pub const PASSWORD: &str = "FuzzPassword123";
/// The peer every request comes from: a trusted proxy, so `X-Forwarded-For` counts.
pub const PEER: &str = "10.0.0.2:40000";

/// The live values a request input may name as `{placeholder}`.
pub struct Live {
    pub org: i64,
    pub owner: i64,
    pub member: i64,
    /// An owner's access token, for the admin API.
    pub admin: String,
    /// A member's token pair, for refresh, verify and logout.
    pub access: String,
    pub refresh: String,
    /// An integration's credentials, for `/auth` and OAuth.
    pub key: String,
    pub secret: String,
    pub integration_refresh: String,
    /// An owner's console session and its CSRF token.
    pub session: String,
    pub csrf: String,
}

/// One Porteiro, its database in a temporary directory that goes with it.
pub struct Server {
    pub live: Live,
    router: Router,
    app: Application,
    runtime: tokio::runtime::Runtime,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        // The runtime goes after this, and with it every background task of the application.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Settings for fuzzing: port 0, argon2 at its cheapest (no input may pay for a real hash), and
/// 10.0.0.0/8 and fd00::/8 as trusted proxies.
pub fn settings(database: String) -> Settings {
    Settings::from_flags([
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
        "--argon2-memory-kib",
        "8",
        "--argon2-iterations",
        "1",
        "--trusted-proxies",
        "10.0.0.0/8,fd00::/8",
    ])
    .expect("valid settings")
}

impl Server {
    /// Starts a server on a fresh database with one organization, an owner and a member (both
    /// with [`PASSWORD`]), one integration, and the sessions [`Live`] names.
    pub fn start(configure: impl FnOnce(&mut Settings)) -> Server {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "porteiro-fuzz-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        remove_stale_directories();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut settings = settings(format!("sqlite://{}/porteiro.db", dir.display()));
        configure(&mut settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (app, live) = runtime.block_on(async {
            let clock = Arc::new(ManualClock::new(SystemClock.now()));
            let app = Application::build(settings, clock.clone())
                .await
                .expect("the application starts");
            let live = seed(app.state(), clock.now()).await;
            (app, live)
        });
        let router = porteiro::app::routes(app.state().auth.clone());
        Server {
            live,
            router,
            app,
            runtime,
            dir,
        }
    }

    pub fn state(&self) -> &AppState {
        self.app.state()
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Replaces every `{placeholder}` of [`Live`] in a request input.
    pub fn expand(&self, input: &str) -> String {
        if !input.contains('{') {
            return input.to_owned();
        }
        let l = &self.live;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", l.key, l.secret));
        [
            ("{org}", l.org.to_string()),
            ("{owner}", l.owner.to_string()),
            ("{member}", l.member.to_string()),
            ("{admin}", l.admin.clone()),
            ("{access}", l.access.clone()),
            ("{refresh}", l.refresh.clone()),
            ("{key}", l.key.clone()),
            ("{secret}", l.secret.clone()),
            ("{basic}", basic),
            ("{integration_refresh}", l.integration_refresh.clone()),
            ("{session}", l.session.clone()),
            ("{csrf}", l.csrf.clone()),
            ("{password}", PASSWORD.to_owned()),
        ]
        .iter()
        .fold(input.to_owned(), |text, (name, value)| {
            text.replace(name, value)
        })
    }

    /// Sends a request to the router as if from [`PEER`]; the answer's status, headers and body.
    /// A panic anywhere on the way is the fuzzer's crash.
    pub fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = request;
        let peer: SocketAddr = PEER.parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(peer));
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let (parts, body) = response.into_parts();
            let body = to_bytes(body, usize::MAX)
                .await
                .expect("a response body can be read");
            (parts.status, parts.headers, body)
        })
    }
}

/// Removes the databases of fuzzing processes that have exited (a server is not dropped at exit,
/// see `with_server`, so its directory stays behind).
fn remove_stale_directories() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("porteiro-fuzz-")) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

async fn seed(state: &AppState, now: i64) -> Live {
    let auth = &state.auth;
    let operator = Administration::operator(auth.store());
    let org = operator
        .create_org("Acme", now)
        .await
        .expect("an organization");
    let org_id = OrgId::from_db(org.id);
    let hash = hash_password(&SecretString::from(PASSWORD), state.settings.argon2).expect("a hash");
    let mut ids = Vec::new();
    for (name, role) in [
        ("owner@example.com", Role::Owner),
        ("member@example.com", Role::Member),
    ] {
        let username = Username::parse(name).expect("a username");
        let member = operator
            .create_user(org_id, &username, role, &hash, now)
            .await
            .expect("a user");
        ids.push(member.id);
    }
    let scopes = Scopes::parse(&["read", "write"]).expect("scopes");
    let (integration, secret) = operator
        .create_integration(org_id, "Billing", &scopes, now)
        .await
        .expect("an integration");
    let client: IpAddr = [10, 0, 0, 2].into();
    let password = || SecretString::from(PASSWORD);
    let admin = auth
        .login_user(org_id, "owner@example.com", password(), client)
        .await
        .expect("the owner logs in");
    let member = auth
        .login_user(org_id, "member@example.com", password(), client)
        .await
        .expect("the member logs in");
    let key = integration.consumer_key.clone();
    let consumer_key = porteiro::domain::ConsumerKey::parse(&key).expect("a consumer key");
    let machine = auth
        .login_integration(&consumer_key, &secret, client)
        .await
        .expect("the integration logs in");
    let console = auth
        .console_sign_in("owner@example.com", password(), client)
        .await
        .map_err(|_| "the owner signs in to the console")
        .expect("a console session");
    Live {
        org: org.id,
        owner: ids[0],
        member: ids[1],
        admin: admin.access,
        access: member.access,
        refresh: member.refresh.unwrap_or_default(),
        key,
        secret: secret.expose().to_owned(),
        integration_refresh: machine.refresh.unwrap_or_default(),
        session: console.token,
        csrf: console.csrf_token,
    }
}

/// Parses a request input (see the crate's documentation). `None` when its first line is not a
/// method and a path the `http` crate accepts: such bytes never reach a router.
pub fn parse_request(input: &str, path_prefix: &str) -> Option<Request<Body>> {
    let (head, body) = input.split_once("\n\n").unwrap_or((input, ""));
    let mut lines = head.lines();
    let first = lines.next()?;
    let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    let uri: Uri = format!("{path_prefix}{target}").parse().ok()?;
    let mut request = Request::builder().method(method).uri(uri);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            request = request.header(name, value);
        }
    }
    request.body(Body::from(body.to_owned())).ok()
}

thread_local! {
    // Never dropped at exit: by then Tokio's own thread-locals are gone, and a background task
    // dropped with the runtime (a database query in flight) would panic for want of them.
    static SERVER: RefCell<Option<(ManuallyDrop<Server>, usize)>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's server, started by `start` on first use and started afresh every
/// `generation` inputs (so that what the inputs create does not slow the later ones down) or
/// when `f` answers `false` (the server lost a session the seeds rely on).
pub fn with_server(generation: usize, start: fn() -> Server, f: impl FnOnce(&Server) -> bool) {
    SERVER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(_, used)| *used >= generation) {
            if let Some((old, _)) = slot.take() {
                drop(ManuallyDrop::into_inner(old));
            }
            *slot = Some((ManuallyDrop::new(start()), 0));
        }
        let (server, used) = slot.as_mut().expect("a server");
        *used += 1;
        if !f(server) {
            if let Some((old, _)) = slot.take() {
                drop(ManuallyDrop::into_inner(old));
            }
        }
    });
}

/// Answers that mean the server failed rather than refused: a fuzzed request must never get one.
pub fn assert_not_a_server_error(input: &str, status: StatusCode, body: &[u8]) {
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "500 for {input:?}: {}",
        String::from_utf8_lossy(body)
    );
}
