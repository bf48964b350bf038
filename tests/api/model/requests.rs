//! The model's requests through HTTP: logins of users and integrations, client credentials,
//! refreshes of either dialect, token-verify, `/api/v1/me` and token-blacklist.

use serde_json::{Value, json};

use super::Run;
use super::contract::{ACCESS, Dialect, Kind, Owner, Refresh};
use crate::helpers::*;

impl Run<'_> {
    /// The current password mostly, a former one sometimes.
    pub(super) fn password_of(&mut self, user: usize) -> String {
        let u = &self.model.users[user];
        match self.rng.pick(&u.old_passwords.iter().collect::<Vec<_>>()) {
            Some(old) if self.rng.percent(20) => old.clone(),
            _ => u.password.clone(),
        }
    }

    pub(super) async fn login_user(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let password = self.password_of(user);
        let expected = self.model.user_may_login(user, &password);
        self.count(if expected {
            "login: user"
        } else {
            "login: user refused"
        });
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

    pub(super) fn secret_of(&mut self, integration: usize) -> String {
        let i = &self.model.integrations[integration];
        match self.rng.pick(&i.old_secrets.iter().collect::<Vec<_>>()) {
            Some(old) if self.rng.percent(20) => old.clone(),
            _ => i.secret.clone(),
        }
    }

    pub(super) async fn login_integration(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let secret = self.secret_of(integration);
        let expected = self.model.integration_may_login(integration, &secret);
        self.count(if expected {
            "login: integration"
        } else {
            "login: integration refused"
        });
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
    pub(super) fn expiration_fields_match(&self, body: &Value) {
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

    pub(super) async fn client_credentials(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let secret = self.secret_of(integration);
        let expected = self.model.integration_may_login(integration, &secret);
        self.count(if expected {
            "login: client credentials"
        } else {
            "login: client credentials refused"
        });
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
    pub(super) fn pick_refresh(&mut self, dialect: Dialect) -> Option<usize> {
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

    pub(super) async fn refresh(&mut self, dialect: Dialect) {
        let Some(token) = self.pick_refresh(dialect) else {
            return;
        };
        let now_ms = self.now_ms();
        let session = self.model.tokens[token].session;
        let was_ended = self.model.sessions[session].ended;
        let expected = self.model.refresh(token, dialect, now_ms);
        self.count(match &expected {
            Refresh::Refused if self.model.sessions[session].ended && !was_ended => {
                "refresh: reuse ends the session"
            }
            Refresh::Refused => "refresh: refused",
            Refresh::AccessOnly => "refresh: access only",
            Refresh::Rotates { .. } => "refresh: rotates",
            Refresh::Retry { .. } => "refresh: retry inside the grace window",
        });
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

    pub(super) fn any_token(&mut self, access_percent: u64) -> Option<usize> {
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

    pub(super) async fn verify(&mut self) {
        let Some(token) = self.any_token(60) else {
            return;
        };
        let expected = self.model.verify(token, self.now_ms());
        self.count(if expected {
            "verify: valid"
        } else {
            "verify: refused"
        });
        self.log.push(format!("verify token {token}: {expected}"));
        let response = self.app.verify(&self.model.tokens[token].text).await;
        self.expect_status(
            "token-verify",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
    }

    pub(super) async fn me(&mut self) {
        let Some(token) = self.any_token(90) else {
            return;
        };
        let expected = self.model.me(token, self.now_ms());
        self.count(if expected { "me: valid" } else { "me: refused" });
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

    pub(super) async fn blacklist(&mut self) {
        let Some(token) = self.pick_refresh(Dialect::User) else {
            return;
        };
        let expected = self.model.blacklist(token, self.now_ms());
        self.count(if expected {
            "blacklist: ends"
        } else {
            "blacklist: refused"
        });
        self.log
            .push(format!("blacklist token {token}: {expected}"));
        let response = self.app.blacklist(&self.model.tokens[token].text).await;
        self.expect_status(
            "token-blacklist",
            response.status().as_u16(),
            if expected { 200 } else { 401 },
        );
    }

    /// `POST /oauth/revoke` by an integration, of any token.
    pub(super) async fn oauth_revoke(&mut self) {
        let client = self.rng.range(0, 1) as usize;
        let Some(token) = self.any_token(50) else {
            return;
        };
        let authenticated = !self.model.integrations[client].revoked;
        let ends = authenticated && self.model.oauth_revoke(token, client, self.now_ms());
        self.count(if ends {
            "oauth revoke: ends"
        } else {
            "oauth revoke: no effect"
        });
        self.log.push(format!(
            "oauth revoke of token {token} by integration {client}: authenticated {authenticated}, ends {ends}"
        ));
        let i = &self.model.integrations[client];
        let text = self.model.tokens[token].text.clone();
        let response = self
            .app
            .oauth_post("/oauth/revoke", (&i.key, &i.secret), &[("token", &text)])
            .await;
        let expected = if authenticated { 200 } else { 401 };
        self.expect_status("oauth revoke", response.status().as_u16(), expected);
    }
}
