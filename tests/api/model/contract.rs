//! The reference model: what the API's contract (its model, both dialects and the tokens) and the
//! README's "Sessions" say each operation answers, kept as small as the rules allow. It knows
//! tokens by their claims, never by their signatures, and time by the test's clock in
//! milliseconds.

/// Lifetimes and grace window of the test's settings.
pub const ACCESS: i64 = 60;
pub const REFRESH: i64 = 300;
pub const GRACE_MS: i64 = 10_000;

pub struct User {
    pub username: String,
    pub id: i64,
    pub password: String,
    pub old_passwords: Vec<String>,
    pub active: bool,
    /// A member of the sequence's organization (the only one it belongs to).
    pub member: bool,
}

pub struct Integration {
    pub key: String,
    pub secret: String,
    pub old_secrets: Vec<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User(usize),
    Integration(usize),
}

pub struct Session {
    pub sid: String,
    pub owner: Owner,
    /// The newest refresh token's jti; `None` for client credentials (access token only).
    pub current: Option<String>,
    /// The jti the last rotation consumed, and when (ms): the one retry the grace window allows.
    pub previous: Option<(String, i64)>,
    /// The newest refresh token's `exp` (the access token's for client credentials).
    pub exp: i64,
    pub ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Access,
    Refresh,
}

pub struct Token {
    pub text: String,
    pub session: usize,
    pub kind: Kind,
    pub jti: String,
    pub exp: i64,
}

/// Which endpoint a refresh token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    User,
    Integration,
}

/// What a refresh must answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    /// 401 (the model has already ended the session where the contract says so).
    Refused,
    /// 200 with a new access token only (rotation off).
    AccessOnly,
    /// 200 with a new refresh token: a jti never seen, `exp` as given.
    Rotates { exp: i64 },
    /// 200 with the session's newest refresh token again (a retry inside the grace window).
    Retry { jti: String, exp: i64 },
}

pub struct Model {
    /// The user dialect's `rotate_refresh_tokens`; the integration dialect always rotates.
    pub rotate_user: bool,
    pub users: Vec<User>,
    pub integrations: Vec<Integration>,
    pub sessions: Vec<Session>,
    pub tokens: Vec<Token>,
}

fn seconds(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl Model {
    pub fn new(rotate_user: bool) -> Self {
        Self {
            rotate_user,
            users: Vec::new(),
            integrations: Vec::new(),
            sessions: Vec::new(),
            tokens: Vec::new(),
        }
    }

    /// A token is refused from its `exp` on (no leeway in the test's settings).
    pub fn expired(&self, token: usize, now_ms: i64) -> bool {
        self.tokens[token].exp <= seconds(now_ms)
    }

    pub fn user_may_login(&self, user: usize, password: &str) -> bool {
        let user = &self.users[user];
        user.active && user.member && user.password == password
    }

    pub fn integration_may_login(&self, integration: usize, secret: &str) -> bool {
        let integration = &self.integrations[integration];
        !integration.revoked && integration.secret == secret
    }

    /// Presenting a refresh token to a dialect's refresh endpoint: token-refresh for users,
    /// `/auth` refresh for integrations.
    pub fn refresh(&mut self, token: usize, dialect: Dialect, now_ms: i64) -> Refresh {
        let t = &self.tokens[token];
        let s = &self.sessions[t.session];
        let of_dialect = match s.owner {
            Owner::User(_) => dialect == Dialect::User,
            Owner::Integration(_) => dialect == Dialect::Integration,
        };
        if t.kind != Kind::Refresh || !of_dialect || self.expired(token, now_ms) || s.ended {
            return Refresh::Refused;
        }
        let rotates = dialect == Dialect::Integration || self.rotate_user;
        if !rotates {
            return Refresh::AccessOnly;
        }
        if s.current.as_deref() == Some(t.jti.as_str()) {
            return Refresh::Rotates {
                exp: seconds(now_ms) + REFRESH,
            };
        }
        if let Some((previous, at)) = &s.previous
            && *previous == t.jti
            && now_ms - at < GRACE_MS
        {
            let jti = s.current.clone().unwrap_or_default();
            return Refresh::Retry { jti, exp: s.exp };
        }
        // A consumed token outside the one retry: reuse ends the session.
        self.sessions[t.session].ended = true;
        Refresh::Refused
    }

    /// Records the rotation a [`Refresh::Rotates`] answer made.
    pub fn rotated(&mut self, session: usize, jti: &str, exp: i64, now_ms: i64) {
        let s = &mut self.sessions[session];
        s.previous = s.current.take().map(|consumed| (consumed, now_ms));
        s.current = Some(jti.to_owned());
        s.exp = exp;
    }

    /// token-verify: any unexpired token of an open session; a refresh token only while it is
    /// its session's newest.
    pub fn verify(&self, token: usize, now_ms: i64) -> bool {
        let t = &self.tokens[token];
        let s = &self.sessions[t.session];
        !self.expired(token, now_ms)
            && !s.ended
            && (t.kind == Kind::Access || s.current.as_deref() == Some(t.jti.as_str()))
    }

    /// `/api/v1/me`: an unexpired access token of an open session.
    pub fn me(&self, token: usize, now_ms: i64) -> bool {
        let t = &self.tokens[token];
        t.kind == Kind::Access && !self.expired(token, now_ms) && !self.sessions[t.session].ended
    }

    /// token-blacklist: the newest refresh token of an open user session ends it (200); a
    /// consumed one is refused and ends it as reuse; anything else is refused and changes
    /// nothing.
    pub fn blacklist(&mut self, token: usize, now_ms: i64) -> bool {
        let t = &self.tokens[token];
        let s = &self.sessions[t.session];
        if t.kind != Kind::Refresh
            || !matches!(s.owner, Owner::User(_))
            || self.expired(token, now_ms)
            || s.ended
        {
            return false;
        }
        let current = s.current.as_deref() == Some(t.jti.as_str());
        self.sessions[t.session].ended = true;
        current
    }

    /// RFC 7009 revocation by integration `client`: any unexpired token of one of its own open
    /// sessions ends that session; anything else changes nothing. The answer is 200 either way.
    pub fn oauth_revoke(&mut self, token: usize, client: usize, now_ms: i64) -> bool {
        let session = self.tokens[token].session;
        let ends = !self.expired(token, now_ms)
            && self.sessions[session].owner == Owner::Integration(client)
            && !self.sessions[session].ended;
        if ends {
            self.sessions[session].ended = true;
        }
        ends
    }

    /// Ends every open session of `owner` (a password change, a disable, a secret rotation, a
    /// revocation): `(must, may)`, the sids the store must report ended and those it may. An
    /// open session every token of which expired a while ago may have been pruned already.
    pub fn end_sessions_of(&mut self, owner: Owner, now_ms: i64) -> (Vec<String>, Vec<String>) {
        let (mut must, mut may) = (Vec::new(), Vec::new());
        for s in self
            .sessions
            .iter_mut()
            .filter(|s| s.owner == owner && !s.ended)
        {
            s.ended = true;
            may.push(s.sid.clone());
            if s.exp >= seconds(now_ms) - ACCESS {
                must.push(s.sid.clone());
            }
        }
        (must, may)
    }
}
