//! From the parsed arguments to [`Settings`]: the values as clap gave them, combined where a
//! setting is more than one argument, and checked.

use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::FromArgMatches;
use ipnet::IpNet;
use secrecy::ExposeSecret;

use super::args::{CommonArgs, ServeArgs, settings_command};
use super::{Algorithm, Argon2Settings, LockoutSettings, ResourceUri, Settings};

impl Settings {
    /// The settings of `serve`, checked.
    pub fn from_args(common: CommonArgs, serve: ServeArgs) -> anyhow::Result<Self> {
        let algorithm = serve.algorithm.algorithm;
        let hs256_secret = serve.hs256_secret;
        if algorithm == Algorithm::HS256 {
            match &hs256_secret {
                None => bail!("--algorithm HS256 needs the shared secret in PORTEIRO_HS256_SECRET"),
                Some(s) if s.expose_secret().len() < 32 => {
                    bail!("PORTEIRO_HS256_SECRET must be at least 32 bytes long")
                }
                Some(_) => {}
            }
        }
        let trusted_proxies = serve
            .trusted_proxies
            .as_deref()
            .map(parse_trusted_proxies)
            .transpose()?
            .unwrap_or_default();
        let master_key = common.master_key_source()?;
        let oauth = serve.oauth_tokens;
        let oauth_audience = oauth
            .oauth_audience
            .as_deref()
            .map(|uri| ResourceUri::parse(uri).context("--oauth-audience"))
            .transpose()?;
        let oauth_resources = oauth
            .oauth_resources
            .as_deref()
            .map(parse_resources)
            .transpose()?
            .unwrap_or_default();
        let (tokens, throttling, hashing) = (serve.tokens, serve.throttling, serve.hashing);
        let settings = Settings {
            listen: serve.listen,
            database: common.database,
            issuer: serve.issuer.map(|s| s.trim_end_matches('/').to_owned()),
            algorithm,
            hs256_secret: hs256_secret.filter(|_| algorithm == Algorithm::HS256),
            access_token_lifetime: tokens.access_token_lifetime,
            refresh_token_lifetime: tokens.refresh_token_lifetime,
            rotate_refresh_tokens: tokens.rotate_refresh_tokens,
            integration_access_token_lifetime: tokens.integration_access_token_lifetime,
            integration_refresh_token_lifetime: tokens.integration_refresh_token_lifetime,
            refresh_reuse_grace: tokens.refresh_reuse_grace,
            leeway: tokens.leeway,
            lockout: LockoutSettings {
                account_failures: throttling.lockout_account_failures,
                account_backstop: throttling.lockout_account_backstop,
                address_failures: throttling.lockout_address_failures,
                window: throttling.lockout_window,
                duration: throttling.lockout_duration,
            },
            trusted_proxies,
            argon2: Argon2Settings {
                memory_kib: hashing.argon2_memory_kib,
                iterations: hashing.argon2_iterations,
                parallelism: hashing.argon2_parallelism,
            },
            log_format: common.log_format,
            database_pool_size: serve.database_pool_size,
            database_connect_timeout: common.database_connect_timeout,
            sqlite_synchronous: common.sqlite_synchronous,
            audit_retention: Some(serve.audit_retention).filter(|d| !d.is_zero()),
            master_key,
            header_timeout: serve.header_timeout,
            max_connections: serve.max_connections,
            oauth_token_profile: oauth.oauth_token_profile,
            oauth_audience,
            oauth_resources,
            idle_timeout: Duration::from_secs(60),
        };
        settings.check()?;
        Ok(settings)
    }

    /// The settings `porteiro serve FLAGS…` runs with in an empty environment and without a
    /// config file: how tests make settings.
    pub fn from_flags<I, T>(flags: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = settings_command().mut_args(|arg| arg.env(None));
        let argv =
            std::iter::once(OsString::from("porteiro")).chain(flags.into_iter().map(Into::into));
        let matches = command.try_get_matches_from(argv)?;
        Settings::from_args(
            CommonArgs::from_arg_matches(&matches)?,
            ServeArgs::from_arg_matches(&matches)?,
        )
    }
}

fn parse_trusted_proxies(list: &str) -> anyhow::Result<Vec<IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .with_context(|| format!("{s:?} in --trusted-proxies is not an address or CIDR"))
        })
        .collect()
}

fn parse_resources(list: &str) -> anyhow::Result<Vec<ResourceUri>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| ResourceUri::parse(s).context("--oauth-resources"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MasterKeySource, OAuthAccessTokens, OAuthTokenProfile, SqliteSynchronous};

    #[test]
    fn defaults_match_the_contract() {
        let s = Settings::from_flags::<_, &str>([]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database, "sqlite://porteiro.db");
        assert_eq!(s.algorithm, Algorithm::ES256);
        assert_eq!(s.access_token_lifetime, Duration::from_secs(3600));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(86400));
        assert!(!s.rotate_refresh_tokens);
        assert_eq!(
            s.integration_refresh_token_lifetime,
            Duration::from_secs(48 * 3600)
        );
        assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(s.lockout.account_failures, 5);
        assert_eq!(s.lockout.address_failures, 50);
        assert_eq!(s.lockout.account_backstop, 100);
        assert_eq!(s.header_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 10_000);
        assert!(matches!(s.master_key, MasterKeySource::Default));
        assert_eq!(s.argon2.memory_kib, 19456);
        assert_eq!(s.issuer_for(s.listen), "http://127.0.0.1:8080");
        assert_eq!(s.audit_retention, Some(Duration::from_secs(90 * 86400)));
        assert_eq!(s.sqlite_synchronous, SqliteSynchronous::Normal);
        assert_eq!(s.oauth_token_profile, OAuthTokenProfile::Jwt);
        assert!(s.oauth_audience.is_none() && s.oauth_resources.is_empty());
        assert!(matches!(
            s.oauth_access_tokens().unwrap(),
            OAuthAccessTokens::Jwt
        ));
    }

    #[test]
    fn the_rfc9068_profile_takes_a_default_audience_and_other_resources() {
        let s = Settings::from_flags([
            "--oauth-token-profile",
            "rfc9068",
            "--oauth-audience",
            "https://api.example.com",
            "--oauth-resources",
            "https://billing.example.com/, urn:example:reports",
        ])
        .unwrap();
        let OAuthAccessTokens::Rfc9068 {
            default_audience,
            resources,
        } = s.oauth_access_tokens().unwrap()
        else {
            panic!("not the RFC 9068 profile");
        };
        assert_eq!(default_audience.as_str(), "https://api.example.com");
        let resources: Vec<&str> = resources.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            resources,
            ["https://billing.example.com/", "urn:example:reports"]
        );
    }

    #[test]
    fn the_rfc9068_profile_without_a_default_audience_is_refused_naming_the_flag() {
        let refused = Settings::from_flags(["--oauth-token-profile", "rfc9068"]).unwrap_err();
        assert!(
            refused.to_string().contains("--oauth-audience"),
            "{refused}"
        );
        assert!(Settings::from_flags(["--oauth-token-profile", "jws"]).is_err());
    }

    #[test]
    fn audiences_without_the_rfc9068_profile_are_refused_rather_than_ignored() {
        for flags in [
            ["--oauth-audience", "https://api.example.com"],
            ["--oauth-resources", "https://api.example.com"],
        ] {
            let refused = Settings::from_flags(flags).unwrap_err();
            assert!(refused.to_string().contains("rfc9068"), "{refused}");
        }
    }

    #[test]
    fn audiences_and_resources_must_be_absolute_uris_without_a_fragment() {
        let rfc9068 = ["--oauth-token-profile", "rfc9068"];
        for (flag, value) in [
            ("--oauth-audience", "api.example.com"),
            ("--oauth-audience", "https://api.example.com/#v1"),
        ] {
            let refused = Settings::from_flags([&rfc9068[..], &[flag, value]].concat());
            let refused = format!("{:#}", refused.unwrap_err());
            assert!(refused.contains(flag), "{refused}");
        }
        let audience = ["--oauth-audience", "https://api.example.com"];
        let bad_list = ["--oauth-resources", "https://a.example.com,/relative"];
        let refused = Settings::from_flags([&rfc9068[..], &audience, &bad_list].concat());
        assert!(format!("{:#}", refused.unwrap_err()).contains("--oauth-resources"));
    }

    #[test]
    fn sqlite_synchronous_is_normal_or_full() {
        let full = Settings::from_flags(["--sqlite-synchronous", "full"]).unwrap();
        assert_eq!(full.sqlite_synchronous, SqliteSynchronous::Full);
        assert_eq!(full.sqlite_synchronous.pragma_value(), 2);
        assert!(Settings::from_flags(["--sqlite-synchronous", "off"]).is_err());
    }

    #[test]
    fn an_audit_retention_of_zero_keeps_every_event() {
        let keep = |v: &str| {
            Settings::from_flags(["--audit-retention", v])
                .unwrap()
                .audit_retention
        };
        assert_eq!(keep("0s"), None);
        assert_eq!(keep("30d"), Some(Duration::from_secs(30 * 86400)));
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidrs() {
        let nets = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1,::1").unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        assert!(parse_trusted_proxies("10.0.0.0/8,nonsense").is_err());
    }

    #[test]
    fn an_issuer_with_a_trailing_slash_is_trimmed() {
        let s = Settings::from_flags(["--issuer", "https://auth.example.com/"]).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("https://auth.example.com"));
    }

    #[test]
    fn hs256_needs_a_secret_of_32_bytes() {
        let hs256 = ["--algorithm", "HS256"];
        assert!(Settings::from_flags(hs256).is_err());
        let short = Settings::from_flags([&hs256[..], &["--hs256-secret", "short"]].concat());
        assert!(short.is_err());
        let long = "x".repeat(32);
        let s = Settings::from_flags([&hs256[..], &["--hs256-secret", &long]].concat()).unwrap();
        assert_eq!(s.hs256_secret.map(|s| s.expose_secret().len()), Some(32));
    }
}
