//! The model's administrative changes, made as the admin API makes them on this instance:
//! password changes, disabling and enabling, secret rotation and revocation, key rotation, and the
//! passage of time.

use porteiro::auth::admin;
use porteiro::domain::secret_generation::marker_of;
use porteiro::domain::{ConsumerKey, Username};

use super::Run;
use super::contract::{ACCESS, GRACE_MS, Owner, REFRESH};

impl Run<'_> {
    /// Checks the sessions an administrative change ended, and makes this instance refuse them
    /// at once, as the admin API and console do for changes made through them.
    pub(super) fn ended(
        &self,
        what: &str,
        actual: Vec<String>,
        (must, may): (Vec<String>, Vec<String>),
    ) {
        // A change of an integration also ends its secret's generation: a marker (the consumer
        // key, a dot and a tag) that ends every token of that secret, among them those of
        // client-credentials sessions, which have no row to end.
        let (markers, sessions): (Vec<&String>, Vec<&String>) =
            actual.iter().partition(|id| id.contains('.'));
        let ended = |sid: &String| {
            sessions.contains(&sid)
                || markers.iter().any(|marker| {
                    marker.rsplit_once('.').is_some_and(|(key, _)| {
                        marker_of(key, sid).as_deref() == Some(marker.as_str())
                    })
                })
        };
        let wrong =
            sessions.iter().any(|sid| !may.contains(sid)) || must.iter().any(|sid| !ended(sid));
        if wrong {
            self.fail(format!(
                "{what} ended {actual:?}; must end {must:?}, may end {may:?}"
            ));
        }
        self.app.auth.remember_ended(actual);
    }

    pub(super) fn username(&self, user: usize) -> Username {
        Username::parse(&self.model.users[user].username).unwrap()
    }

    pub(super) async fn set_password(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let password = format!("Model-{}-{}", self.seed, self.rng.next());
        self.log.push(format!("set password of user {user}"));
        let hash = porteiro::auth::hashing::hash_password(
            &password.clone().into(),
            self.app.settings.argon2,
        )
        .unwrap();
        let store = self.app.auth.store();
        let actual = admin::Administration::operator(store)
            .set_password(&self.username(user), &hash, self.app.now())
            .await
            .unwrap();
        let expected = self.model.end_sessions_of(Owner::User(user), self.now_ms());
        self.ended("set-password", actual, expected);
        let u = &mut self.model.users[user];
        u.old_passwords
            .push(std::mem::replace(&mut u.password, password));
    }

    pub(super) async fn toggle_active(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let active = !self.model.users[user].active;
        self.log.push(format!("set user {user} active: {active}"));
        let store = self.app.auth.store();
        let actual = admin::Administration::operator(store)
            .set_active(&self.username(user), active, self.app.now())
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

    /// Removes the user from the sequence's organization, or adds them back.
    pub(super) async fn toggle_membership(&mut self) {
        let user = self.rng.range(0, 1) as usize;
        let member = !self.model.users[user].member;
        self.log.push(format!("set user {user} member: {member}"));
        let (store, now) = (self.app.auth.store(), self.app.now());
        let username = self.username(user);
        let actual = if member {
            let role = porteiro::domain::Role::Member;
            admin::Administration::operator(store)
                .grant(&username, self.org, role, now)
                .await
                .unwrap();
            Vec::new()
        } else {
            admin::Administration::operator(store)
                .revoke(&username, self.org, now)
                .await
                .unwrap()
        };
        let expected = if member {
            (Vec::new(), Vec::new())
        } else {
            self.model.end_sessions_of(Owner::User(user), self.now_ms())
        };
        self.ended("membership change", actual, expected);
        self.model.users[user].member = member;
    }

    pub(super) async fn rotate_secret(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let revoked = self.model.integrations[integration].revoked;
        self.log.push(format!(
            "rotate the secret of integration {integration} (revoked: {revoked})"
        ));
        let key = ConsumerKey::parse(&self.model.integrations[integration].key).unwrap();
        let store = self.app.auth.store();
        match admin::Administration::operator(store)
            .rotate_integration_secret(&key, self.app.now())
            .await
        {
            Ok((secret, actual)) if !revoked => {
                let expected = self
                    .model
                    .end_sessions_of(Owner::Integration(integration), self.now_ms());
                self.ended("rotate-secret", actual, expected);
                let i = &mut self.model.integrations[integration];
                i.old_secrets
                    .push(std::mem::replace(&mut i.secret, secret.expose().to_owned()));
            }
            Err(admin::AdminError::IntegrationRevoked(_)) if revoked => {}
            other => self.fail(format!(
                "rotate-secret answered {:?}",
                other.map(|(_, sids)| sids)
            )),
        }
    }

    pub(super) async fn revoke_integration(&mut self) {
        let integration = self.rng.range(0, 1) as usize;
        let revoked = self.model.integrations[integration].revoked;
        self.log.push(format!(
            "revoke integration {integration} (revoked: {revoked})"
        ));
        let key = ConsumerKey::parse(&self.model.integrations[integration].key).unwrap();
        match admin::Administration::operator(self.app.auth.store())
            .revoke_integration(&key, self.app.now())
            .await
        {
            Ok(actual) if !revoked => {
                let expected = self
                    .model
                    .end_sessions_of(Owner::Integration(integration), self.now_ms());
                self.ended("revoke", actual, expected);
                self.model.integrations[integration].revoked = true;
            }
            Err(admin::AdminError::IntegrationAlreadyRevoked(_)) if revoked => {}
            other => self.fail(format!("revoke answered {other:?}")),
        }
    }

    /// A new signing key, active at once: new tokens carry it, older ones keep working.
    pub(super) async fn rotate_key(&mut self) {
        let key = self.app.create_key(0).await;
        self.log
            .push(format!("rotate the signing key to {}", key.kid));
        self.kid = Some(key.kid.clone());
    }

    /// Moves the clock: a little, within the grace window, past it, past the access lifetime,
    /// past the refresh lifetime, or onto the edge of a grace window or of a token's life.
    pub(super) fn advance(&mut self) {
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
