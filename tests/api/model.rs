//! A model-based test of sessions: random sequences of logins, refreshes, checks, logouts,
//! administrative changes, key rotations and the passage of time, run against Porteiro through
//! HTTP and against the reference model in [`contract`], comparing every answer.
//!
//! `PORTEIRO_MODEL_SEED=<seed>` replays a run (sequence `i` has seed `<seed> + i`, printed with
//! every failure), `PORTEIRO_MODEL_SEQUENCES=<n>` runs more or fewer sequences. An odd seed runs
//! on the app with user-dialect rotation on, an even one on the app with it off; each sequence
//! has its own organization, users and integrations, so it replays alone.

mod changes;
mod contract;
mod requests;

use std::collections::BTreeMap;
use std::time::Duration;

use porteiro::auth::admin;
use porteiro::domain::{OrgId, Role, Scopes};

use crate::helpers::*;
use contract::{ACCESS, Dialect, GRACE_MS, Kind, Model, Owner, REFRESH, Session, Token};

/// splitmix64: small, deterministic, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[(self.next() % items.len() as u64) as usize])
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// One app per user-dialect rotation setting, with the model's short lifetimes and a lockout
/// that wrong passwords never reach.
async fn spawn(rotate: bool) -> TestApp {
    TestApp::spawn_with(move |s| {
        s.rotate_refresh_tokens = rotate;
        s.access_token_lifetime = Duration::from_secs(ACCESS as u64);
        s.refresh_token_lifetime = Duration::from_secs(REFRESH as u64);
        s.integration_access_token_lifetime = Duration::from_secs(ACCESS as u64);
        s.integration_refresh_token_lifetime = Duration::from_secs(REFRESH as u64);
        s.refresh_reuse_grace = Duration::from_millis(GRACE_MS as u64);
        s.leeway = Duration::ZERO;
        s.lockout.account_failures = 1_000_000;
        s.lockout.account_backstop = 1_000_000;
        s.lockout.address_failures = 1_000_000;
    })
    .await
}

#[tokio::test]
async fn random_sequences_of_session_operations_answer_as_the_contracts_model_says() {
    let seed = env_number("PORTEIRO_MODEL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    let default = if postgres_base().is_some() { 300 } else { 800 };
    let sequences = env_number("PORTEIRO_MODEL_SEQUENCES").unwrap_or(default);
    println!("model: seed {seed}, {sequences} sequences");
    // An app per sequence would leave hundreds of servers polling: two apps, and a fresh
    // organization with its own users and integrations for each sequence.
    let apps = [spawn(false).await, spawn(true).await];
    let started = std::time::Instant::now();
    let (mut operations, mut tally) = (0, BTreeMap::new());
    for i in 0..sequences {
        let seed = seed.wrapping_add(i);
        let app = &apps[(seed % 2) as usize];
        let run = Run::new(app, seed).await;
        println!("model: sequence {i}, seed {seed}");
        let (steps, outcomes) = run.run().await;
        operations += steps;
        for (outcome, n) in outcomes {
            *tally.entry(outcome).or_insert(0) += n;
        }
    }
    println!(
        "model: {sequences} sequences, {operations} operations in {:.1?}; outcomes: {tally:#?}",
        started.elapsed()
    );
}

struct Run<'a> {
    app: &'a TestApp,
    seed: u64,
    rng: Rng,
    model: Model,
    org: OrgId,
    /// The key new tokens must be signed with, once known.
    kid: Option<String>,
    log: Vec<String>,
    /// How often each expected outcome came up: what the run exercised.
    tally: BTreeMap<&'static str, u64>,
}

impl<'a> Run<'a> {
    /// A fresh organization with two users and two integrations.
    async fn new(app: &'a TestApp, seed: u64) -> Self {
        let org = app.create_org(&format!("Model {seed}")).await;
        let mut model = Model::new(seed % 2 == 1);
        for i in 0..2 {
            let username = format!("m{seed}-{i}@example.com");
            let id = app
                .create_user(org, &username, PASSWORD, Role::Member)
                .await;
            model.users.push(contract::User {
                username,
                id,
                password: PASSWORD.into(),
                old_passwords: Vec::new(),
                active: true,
                member: true,
            });
            let (record, secret) = admin::Administration::operator(app.auth.store())
                .create_integration(org, "Model", &Scopes::parse(&["read"]).unwrap(), app.now())
                .await
                .unwrap();
            model.integrations.push(contract::Integration {
                key: record.consumer_key,
                secret: secret.expose().to_owned(),
                old_secrets: Vec::new(),
                revoked: false,
            });
        }
        Run {
            app,
            seed,
            rng: Rng(seed),
            model,
            org,
            kid: None,
            log: Vec::new(),
            tally: BTreeMap::new(),
        }
    }

    fn fail(&self, what: String) -> ! {
        panic!(
            "model: seed {} (rotation {}): {what}\nreplay: PORTEIRO_MODEL_SEED={} \
             PORTEIRO_MODEL_SEQUENCES=1 cargo test --test api model\noperations:\n  {}",
            self.seed,
            self.model.rotate_user,
            self.seed,
            self.log.join("\n  ")
        )
    }

    fn now_ms(&self) -> i64 {
        use porteiro::clock::Clock;
        self.app.clock.now_millis()
    }

    fn count(&mut self, outcome: &'static str) {
        *self.tally.entry(outcome).or_insert(0) += 1;
    }

    async fn run(mut self) -> (u64, BTreeMap<&'static str, u64>) {
        let steps = self.rng.range(30, 60) as u64;
        for _ in 0..steps {
            match self.rng.range(0, 99) {
                0..=9 => self.login_user().await,
                10..=15 => self.login_integration().await,
                16..=18 => self.client_credentials().await,
                19..=38 => self.refresh(Dialect::User).await,
                39..=48 => self.refresh(Dialect::Integration).await,
                49..=56 => self.verify().await,
                57..=64 => self.me().await,
                65..=69 => self.blacklist().await,
                70..=71 => self.set_password().await,
                72..=73 => self.toggle_active().await,
                74 => self.rotate_secret().await,
                75 if self.rng.percent(50) => self.revoke_integration().await,
                76 => self.rotate_key().await,
                77 => self.toggle_membership().await,
                78..=79 => self.oauth_revoke().await,
                _ => self.advance(),
            }
        }
        (steps, self.tally)
    }

    fn expect_status(&self, what: &str, actual: u16, expected: u16) {
        if actual != expected {
            self.fail(format!("{what}: status {actual}, expected {expected}"));
        }
    }

    /// Checks a token just issued for `session` and adds it to the model.
    fn issued(&mut self, text: &str, session: usize, kind: Kind, exp: i64) -> usize {
        let claims = claims(text);
        let kid = header(text)["kid"].as_str().unwrap_or_default().to_owned();
        let s = &self.model.sessions[session];
        let subject_ok = match s.owner {
            Owner::User(u) => claims["user_id"] == self.model.users[u].id,
            Owner::Integration(i) => claims["client_id"] == self.model.integrations[i].key.as_str(),
        };
        let type_ok = claims["token_type"]
            == if kind == Kind::Access {
                "access"
            } else {
                "refresh"
            };
        if claims["sid"] != s.sid.as_str() || claims["exp"] != exp || !subject_ok || !type_ok {
            self.fail(format!(
                "issued {kind:?} token of session {}, exp {exp}: {claims}",
                s.sid
            ));
        }
        match &self.kid {
            Some(expected) if *expected != kid => self.fail(format!(
                "issued a token with kid {kid}, the signing key is {expected}"
            )),
            _ => self.kid = Some(kid),
        }
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        self.model.tokens.push(Token {
            text: text.to_owned(),
            session,
            kind,
            jti,
            exp,
        });
        self.model.tokens.len() - 1
    }

    /// A session started by a login answer: its refresh token's claims name it.
    fn started(&mut self, owner: Owner, access: &str, refresh: Option<&str>) {
        let now = self.now_ms().div_euclid(1000);
        let first = claims(refresh.unwrap_or(access));
        let sid = first["sid"].as_str().unwrap_or_default().to_owned();
        if self.model.sessions.iter().any(|s| s.sid == sid) {
            self.fail(format!("a login answered with the known session {sid}"));
        }
        let current = refresh.map(|_| first["jti"].as_str().unwrap_or_default().to_owned());
        let exp = now + if refresh.is_some() { REFRESH } else { ACCESS };
        self.model.sessions.push(Session {
            sid,
            owner,
            current,
            previous: None,
            exp,
            ended: false,
        });
        let session = self.model.sessions.len() - 1;
        self.issued(access, session, Kind::Access, now + ACCESS);
        if let Some(refresh) = refresh {
            self.issued(refresh, session, Kind::Refresh, now + REFRESH);
        }
    }
}
