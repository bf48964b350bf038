//! Counters for `GET /metrics`, in the Prometheus text format. Every name starts with `porteiro_`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who tried to authenticate.
#[derive(Debug, Clone, Copy)]
pub enum Principal {
    User = 0,
    Integration = 1,
}

/// How an authentication attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Success = 0,
    Failure = 1,
    LockedOut = 2,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// Responses by status class: 1xx … 5xx.
    responses: [AtomicU64; 5],
    logins: [[AtomicU64; 3]; 2],
    /// Failed or refused logins, by principal, that concern no existing organization: they
    /// write no audit event, so that nobody can fill the activity log from outside.
    unaudited: [AtomicU64; 2],
    refresh_reuse: AtomicU64,
}

/// Point-in-time values read from the running service when the metrics are rendered.
#[derive(Debug, Default)]
pub struct Gauges {
    pub hashing_in_flight: usize,
    pub ended_sessions_remembered: usize,
    pub signing_keys_published: usize,
    pub database_up: bool,
}

impl Metrics {
    pub fn response(&self, status: u16) {
        if let Some(counter) = (status / 100)
            .checked_sub(1)
            .and_then(|i| self.responses.get(usize::from(i)))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn login(&self, who: Principal, outcome: Outcome) {
        self.logins[who as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A failed or refused login that wrote no audit event: it concerned no existing
    /// organization.
    pub fn unaudited_attempt(&self, who: Principal) {
        self.unaudited[who as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn refresh_reuse(&self) {
        self.refresh_reuse.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP porteiro_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE porteiro_http_responses_total counter");
        for (i, counter) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "porteiro_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                counter.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP porteiro_authentications_total Credential checks by principal and outcome."
        );
        let _ = writeln!(out, "# TYPE porteiro_authentications_total counter");
        for (who, name) in [
            (Principal::User, "user"),
            (Principal::Integration, "integration"),
        ] {
            for (outcome, label) in [
                (Outcome::Success, "success"),
                (Outcome::Failure, "failure"),
                (Outcome::LockedOut, "locked_out"),
            ] {
                let value = self.logins[who as usize][outcome as usize].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "porteiro_authentications_total{{principal=\"{name}\",outcome=\"{label}\"}} {value}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP porteiro_unaudited_login_failures_total Failed or refused logins to an organization that does not exist (or an unknown consumer key), which write no audit event."
        );
        let _ = writeln!(
            out,
            "# TYPE porteiro_unaudited_login_failures_total counter"
        );
        for (who, name) in [
            (Principal::User, "user"),
            (Principal::Integration, "integration"),
        ] {
            let value = self.unaudited[who as usize].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "porteiro_unaudited_login_failures_total{{principal=\"{name}\"}} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP porteiro_refresh_reuse_total Refresh tokens presented again after use; each ended a session."
        );
        let _ = writeln!(out, "# TYPE porteiro_refresh_reuse_total counter");
        let _ = writeln!(
            out,
            "porteiro_refresh_reuse_total {}",
            self.refresh_reuse.load(Ordering::Relaxed)
        );
        for (name, help, value) in [
            (
                "porteiro_password_hashing_in_flight",
                "Logins hashing or waiting for a hashing thread.",
                gauges.hashing_in_flight,
            ),
            (
                "porteiro_ended_sessions_remembered",
                "Ended sessions kept in memory for bearer checks.",
                gauges.ended_sessions_remembered,
            ),
            (
                "porteiro_signing_keys_published",
                "Signing keys in the JWKS.",
                gauges.signing_keys_published,
            ),
            (
                "porteiro_database_up",
                "Whether the database answered the last probe.",
                usize::from(gauges.database_up),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_the_porteiro_prefix() {
        let metrics = Metrics::default();
        metrics.response(200);
        metrics.response(401);
        metrics.response(999);
        metrics.login(Principal::User, Outcome::LockedOut);
        metrics.unaudited_attempt(Principal::Integration);
        let text = metrics.render(&Gauges {
            database_up: true,
            ..Default::default()
        });
        assert!(text.contains("porteiro_http_responses_total{class=\"2xx\"} 1"));
        assert!(text.contains("porteiro_http_responses_total{class=\"4xx\"} 1"));
        assert!(text.contains(
            "porteiro_authentications_total{principal=\"user\",outcome=\"locked_out\"} 1"
        ));
        assert!(
            text.contains("porteiro_unaudited_login_failures_total{principal=\"integration\"} 1")
        );
        assert!(text.contains("porteiro_database_up 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("porteiro_"), "{line}");
        }
    }
}
