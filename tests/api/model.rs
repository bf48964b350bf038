//! A model-based test of sessions: random sequences of logins, refreshes, checks, logouts,
//! administrative changes, key rotations and the passage of time, run against Porteiro through
//! HTTP and against the reference model in [`contract`], comparing every answer.
//!
//! `PORTEIRO_MODEL_SEED=<seed>` replays a run (sequence `i` has seed `<seed> + i`, printed with
//! every failure), `PORTEIRO_MODEL_SEQUENCES=<n>` runs more or fewer sequences.

mod contract;

use std::time::Duration;

use porteiro::auth::admin::{self, Actor};
use porteiro::domain::{ConsumerKey, OrgId, Role, Scopes, Username};
use serde_json::{Value, json};

use crate::helpers::*;
use contract::{ACCESS, Dialect, GRACE_MS, Kind, Model, Owner, REFRESH, Refresh, Session, Token};

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
    let default = if postgres_base().is_some() { 60 } else { 300 };
    let sequences = env_number("PORTEIRO_MODEL_SEQUENCES").unwrap_or(default);
    println!("model: seed {seed}, {sequences} sequences");
    // An app per sequence would leave hundreds of servers polling: two apps, and a fresh
    // organization with its own users and integrations for each sequence.
    let apps = [spawn(false).await, spawn(true).await];
    let started = std::time::Instant::now();
    let mut operations = 0;
    for i in 0..sequences {
        let seed = seed.wrapping_add(i);
        let app = &apps[(seed % 2) as usize];
        operations += Run::new(app, seed).await.run().await;
    }
    println!(
        "model: {sequences} sequences, {operations} operations in {:.1?}",
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
            });
            let (record, secret) = admin::create_integration(
                &app.auth.store,
                &Actor::cli(),
                org,
                "Model",
                &Scopes::parse(&["read"]).unwrap(),
                app.now(),
            )
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

    async fn run(mut self) -> u64 {
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
                _ => self.advance(),
            }
        }
        steps
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

    /// The current password mostly, a former one sometimes.
    fn password_of(&mut self, user: usize) -> String {
        let u = &self.model.users[user];
        match self.rng.pick(&u.old_passwords.iter().collect::<Vec<_>>()) {
            Some(old) if self.rng.percent(20) => old.clone(),
            _ => u.password.clone(),
        }
    }

    async fn login_user(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let password = self.password_of(user);
        let expected = self.model.user_may_login(user, &password);
        self.log
            .push(format!("login user {user} (password ok: {expected})"));
        let username = self.model.users[user].username.clone();
        let response = self.app.login_as(self.org, &username, &password).await;
        self.expect_status(
            "user login",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
        if expected {
            let body: Value = response.json().await.unwrap();
            let (refresh, access) = (body["refresh"].as_str(), body["access"].as_str());
            self.started(Owner::User(user), access.unwrap_or_default(), refresh);
        }
    }

    fn secret_of(&mut self, integration: usize) -> String {
        let i = &self.model.integrations[integration];
        match self.rng.pick(&i.old_secrets.iter().collect::<Vec<_>>()) {
            Some(old) if self.rng.percent(20) => old.clone(),
            _ => i.secret.clone(),
        }
    }

    async fn login_integration(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let secret = self.secret_of(integration);
        let expected = self.model.integration_may_login(integration, &secret);
        self.log
            .push(format!("login integration {integration} (ok: {expected})"));
        let key = self.model.integrations[integration].key.clone();
        let response = self.app.integration_login(&key, &secret).await;
        self.expect_status(
            "POST /auth",
            response.status().as_u16(),
            if expected { 200 } else { 400 },
        );
        if expected {
            let body: Value = response.json().await.unwrap();
            self.expiration_fields_match(&body);
            let (refresh, access) = (
                body["refresh_token"].as_str(),
                body["access_token"].as_str(),
            );
            self.started(
                Owner::Integration(integration),
                access.unwrap_or_default(),
                refresh,
            );
        }
    }

    /// The integration dialect's expirations are the tokens' `exp` claims.
    fn expiration_fields_match(&self, body: &Value) {
        for (field, token) in [
            ("expiration_access_token", "access_token"),
            ("expiration_refresh_token", "refresh_token"),
        ] {
            let exp = claims(body[token].as_str().unwrap_or("x.e30.x"))["exp"].as_i64();
            let expected = porteiro::clock::format_rfc3339_millis(exp.unwrap_or_default());
            if body[field] != expected.as_str() {
                self.fail(format!(
                    "{field} is {}, the token's exp is {expected}",
                    body[field]
                ));
            }
        }
    }

    async fn client_credentials(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let secret = self.secret_of(integration);
        let expected = self.model.integration_may_login(integration, &secret);
        self.log.push(format!(
            "client credentials of integration {integration} (ok: {expected})"
        ));
        let key = self.model.integrations[integration].key.clone();
        let form = [("grant_type", "client_credentials")];
        let response = self.app.oauth_token((&key, &secret), &form).await;
        self.expect_status(
            "client credentials",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
        if expected {
            let body: Value = response.json().await.unwrap();
            let access = body["access_token"].as_str().unwrap_or_default();
            self.started(Owner::Integration(integration), access, None);
        }
    }

    /// A refresh token, mostly of `dialect`'s sessions: the newest of its session, its
    /// predecessor, or an older one.
    fn pick_refresh(&mut self, dialect: Dialect) -> Option<usize> {
        let users = (dialect == Dialect::User) != self.rng.percent(10);
        let refresh: Vec<usize> = (0..self.model.tokens.len())
            .filter(|&t| self.model.tokens[t].kind == Kind::Refresh)
            .filter(|&t| {
                let owner = self.model.sessions[self.model.tokens[t].session].owner;
                matches!(owner, Owner::User(_)) == users
            })
            .collect();
        let session = self.model.tokens[self.rng.pick(&refresh)?].session;
        let s = &self.model.sessions[session];
        let of_session: Vec<usize> = refresh
            .into_iter()
            .filter(|&t| self.model.tokens[t].session == session)
            .collect();
        let is = |t: &usize, jti: Option<&str>| Some(self.model.tokens[*t].jti.as_str()) == jti;
        let newest: Vec<usize> = of_session
            .iter()
            .copied()
            .filter(|t| is(t, s.current.as_deref()))
            .collect();
        let previous = s.previous.as_ref().map(|(jti, _)| jti.as_str());
        let predecessor: Vec<usize> = of_session
            .iter()
            .copied()
            .filter(|t| is(t, previous))
            .collect();
        let choice = match self.rng.range(0, 9) {
            0..=4 => self.rng.pick(&newest),
            5..=7 => self.rng.pick(&predecessor),
            _ => None,
        };
        choice.or_else(|| self.rng.pick(&of_session))
    }

    async fn refresh(&mut self, dialect: Dialect) {
        let Some(token) = self.pick_refresh(dialect) else {
            return;
        };
        let now_ms = self.now_ms();
        let expected = self.model.refresh(token, dialect, now_ms);
        self.log.push(format!(
            "refresh ({dialect:?} endpoint) with token {token} at {now_ms} ms: {expected:?}"
        ));
        let text = self.model.tokens[token].text.clone();
        let response = match dialect {
            Dialect::User => self.app.refresh(&text).await,
            Dialect::Integration => {
                self.app
                    .post_json("/auth/refresh", &json!({"refresh_token": text}))
                    .await
            }
        };
        let ok = expected != Refresh::Refused;
        self.expect_status(
            "refresh",
            response.status().as_u16(),
            if ok { 200 } else { 401 },
        );
        if !ok {
            return;
        }
        let body: Value = response.json().await.unwrap();
        let (access, refresh) = match dialect {
            Dialect::User => (body["access"].as_str(), body["refresh"].as_str()),
            Dialect::Integration => (
                body["access_token"].as_str(),
                body["refresh_token"].as_str(),
            ),
        };
        let session = self.model.tokens[token].session;
        let now = now_ms.div_euclid(1000);
        self.issued(
            access.unwrap_or_default(),
            session,
            Kind::Access,
            now + ACCESS,
        );
        match (expected, refresh) {
            (Refresh::AccessOnly, None) => {}
            (Refresh::Rotates { exp }, Some(refresh)) => {
                let jti = claims(refresh)["jti"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if self.model.tokens.iter().any(|t| t.jti == jti) {
                    self.fail(format!("a rotation answered the known jti {jti}"));
                }
                self.issued(refresh, session, Kind::Refresh, exp);
                self.model.rotated(session, &jti, exp, now_ms);
            }
            (Refresh::Retry { jti, exp }, Some(refresh)) => {
                let new = self.issued(refresh, session, Kind::Refresh, exp);
                if self.model.tokens[new].jti != jti {
                    self.fail(format!(
                        "a retry answered jti {}, the newest is {jti}",
                        self.model.tokens[new].jti
                    ));
                }
            }
            (expected, refresh) => self.fail(format!(
                "refresh answered {body}, expected {expected:?} (refresh token: {})",
                refresh.is_some()
            )),
        }
    }

    fn any_token(&mut self, access_percent: u64) -> Option<usize> {
        let kind = if self.rng.percent(access_percent) {
            Kind::Access
        } else {
            Kind::Refresh
        };
        let of_kind: Vec<usize> = (0..self.model.tokens.len())
            .filter(|&t| self.model.tokens[t].kind == kind)
            .collect();
        self.rng.pick(&of_kind)
    }

    async fn verify(&mut self) {
        let Some(token) = self.any_token(60) else {
            return;
        };
        let expected = self.model.verify(token, self.now_ms());
        self.log.push(format!("verify token {token}: {expected}"));
        let response = self.app.verify(&self.model.tokens[token].text).await;
        self.expect_status(
            "token-verify",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
    }

    async fn me(&mut self) {
        let Some(token) = self.any_token(90) else {
            return;
        };
        let expected = self.model.me(token, self.now_ms());
        self.log.push(format!("me with token {token}: {expected}"));
        let response = self.app.me(&self.model.tokens[token].text).await;
        self.expect_status(
            "/api/v1/me",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
        if expected {
            let body: Value = response.json().await.unwrap();
            let who_ok = match self.model.sessions[self.model.tokens[token].session].owner {
                Owner::User(u) => body["user_id"] == self.model.users[u].id,
                Owner::Integration(i) => {
                    body["consumer_key"] == self.model.integrations[i].key.as_str()
                }
            };
            if !who_ok {
                self.fail(format!("/api/v1/me answered {body} for token {token}"));
            }
        }
    }

    async fn blacklist(&mut self) {
        let Some(token) = self.pick_refresh(Dialect::User) else {
            return;
        };
        let expected = self.model.blacklist(token, self.now_ms());
        self.log
            .push(format!("blacklist token {token}: {expected}"));
        let response = self.app.blacklist(&self.model.tokens[token].text).await;
        self.expect_status(
            "token-blacklist",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
    }

    /// Checks the sessions an administrative change ended, and makes this instance refuse them
    /// at once, as the admin API and console do for changes made through them.
    fn ended(&self, what: &str, actual: Vec<String>, (must, may): (Vec<String>, Vec<String>)) {
        let wrong = actual.iter().any(|sid| !may.contains(sid))
            || must.iter().any(|sid| !actual.contains(sid));
        if wrong {
            self.fail(format!(
                "{what} ended {actual:?}; must end {must:?}, may end {may:?}"
            ));
        }
        self.app.auth.identities.clear();
        self.app.auth.integrations.clear();
        for sid in actual {
            self.app.auth.ended.insert(sid, self.app.now());
        }
    }

    fn username(&self, user: usize) -> Username {
        Username::parse(&self.model.users[user].username).unwrap()
    }

    async fn set_password(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let password = format!("Model-{}-{}", self.seed, self.rng.next());
        self.log.push(format!("set password of user {user}"));
        let hash = porteiro::auth::password::hash_password(
            &password.clone().into(),
            self.app.auth.settings.argon2,
        )
        .unwrap();
        let store = &self.app.auth.store;
        let actual = admin::set_password(
            store,
            &Actor::cli(),
            &self.username(user),
            &hash,
            self.app.now(),
        )
        .await
        .unwrap();
        let expected = self.model.end_sessions_of(Owner::User(user), self.now_ms());
        self.ended("set-password", actual, expected);
        let u = &mut self.model.users[user];
        u.old_passwords
            .push(std::mem::replace(&mut u.password, password));
    }

    async fn toggle_active(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let active = !self.model.users[user].active;
        self.log.push(format!("set user {user} active: {active}"));
        let store = &self.app.auth.store;
        let actual = admin::set_active(
            store,
            &Actor::cli(),
            &self.username(user),
            active,
            self.app.now(),
        )
        .await
        .unwrap();
        let expected = if active {
            (Vec::new(), Vec::new())
        } else {
            self.model.end_sessions_of(Owner::User(user), self.now_ms())
        };
        self.ended("set-active", actual, expected);
        self.model.users[user].active = active;
    }

    async fn rotate_secret(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let revoked = self.model.integrations[integration].revoked;
        self.log.push(format!(
            "rotate the secret of integration {integration} (revoked: {revoked})"
        ));
        let key = ConsumerKey::parse(&self.model.integrations[integration].key).unwrap();
        let store = &self.app.auth.store;
        match admin::rotate_integration_secret(store, &Actor::cli(), &key, self.app.now()).await {
            Ok((secret, actual)) if !revoked => {
                let expected = self
                    .model
                    .end_sessions_of(Owner::Integration(integration), self.now_ms());
                self.ended("rotate-secret", actual, expected);
                let i = &mut self.model.integrations[integration];
                i.old_secrets
                    .push(std::mem::replace(&mut i.secret, secret.expose().to_owned()));
            }
            Err(admin::AdminError::Invalid(_)) if revoked => {}
            other => self.fail(format!(
                "rotate-secret answered {:?}",
                other.map(|(_, sids)| sids)
            )),
        }
    }

    async fn revoke_integration(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let revoked = self.model.integrations[integration].revoked;
        self.log.push(format!(
            "revoke integration {integration} (revoked: {revoked})"
        ));
        let key = ConsumerKey::parse(&self.model.integrations[integration].key).unwrap();
        match admin::revoke_integration(&self.app.auth.store, &Actor::cli(), &key, self.app.now())
            .await
        {
            Ok(actual) if !revoked => {
                let expected = self
                    .model
                    .end_sessions_of(Owner::Integration(integration), self.now_ms());
                self.ended("revoke", actual, expected);
                self.model.integrations[integration].revoked = true;
            }
            Err(admin::AdminError::Duplicate(_)) if revoked => {}
            other => self.fail(format!("revoke answered {other:?}")),
        }
    }

    /// A new signing key, active at once: new tokens carry it, older ones keep working.
    async fn rotate_key(&mut self) {
        let now = self.app.now();
        let key = self
            .app
            .auth
            .tokens
            .ring
            .create_key(&self.app.auth.store, now, now)
            .await
            .unwrap();
        self.log
            .push(format!("rotate the signing key to {}", key.kid));
        self.kid = Some(key.kid.clone());
    }

    /// Moves the clock: a little, within the grace window, past it, past the access lifetime,
    /// past the refresh lifetime, or onto the edge of a grace window or of a token's life.
    fn advance(&mut self) {
        let now_ms = self.now_ms();
        let edge = self.rng.range(-1, 0);
        let ms = match self.rng.range(0, 99) {
            0..=29 => self.rng.range(1, 2_000),
            30..=49 => self.rng.range(2_000, GRACE_MS),
            50..=64 => self.rng.range(10_000, 40_000),
            65..=74 => self.rng.range(ACCESS * 1000, ACCESS * 1500),
            75..=79 => self.rng.range(REFRESH * 1000, REFRESH * 1200),
            80..=89 => {
                let ends: Vec<i64> = self
                    .model
                    .sessions
                    .iter()
                    .filter_map(|s| s.previous.as_ref().map(|(_, at)| at + GRACE_MS))
                    .collect();
                self.rng.pick(&ends).map_or(0, |end| end + edge - now_ms)
            }
            _ => {
                let ends: Vec<i64> = self.model.tokens.iter().map(|t| t.exp * 1000).collect();
                self.rng.pick(&ends).map_or(0, |end| end + edge - now_ms)
            }
        };
        if ms > 0 {
            self.log
                .push(format!("advance {ms} ms to {} ms", now_ms + ms));
            self.app.clock.advance_millis(ms);
        }
    }
}
