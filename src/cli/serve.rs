//! `porteiro serve`: the server, and the owner account its first start creates.

use std::process::ExitCode;
use std::sync::Arc;

use secrecy::ExposeSecret;
use serde_json::json;

use crate::app::{Application, shutdown_signal};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::config::args::FirstStartArgs;
use crate::domain::{Password, Username};
use crate::tokens::master::MasterKeyError;

/// Runs the server until SIGTERM or Ctrl-C.
pub(super) async fn serve(settings: Settings, owner: FirstStartArgs) -> ExitCode {
    let shutdown = shutdown_signal();
    let app = match Application::build(settings.clone(), Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start: {e:#}");
            // A missing or wrong master key is the operator's to fix, like a bad argument.
            if e.chain().any(|cause| cause.is::<MasterKeyError>()) {
                return ExitCode::from(2);
            }
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = first_start(&app, owner).await {
        eprintln!("error: first start failed: {e:#}");
        return ExitCode::FAILURE;
    }
    tracing::info!(address = %app.local_addr(), "porteiro is listening");
    match app.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// On a database with no organization, creates organization 1 and its owner, and prints how to
/// log in.
async fn first_start(app: &Application, owner: FirstStartArgs) -> anyhow::Result<()> {
    let store = app.state().auth.store();
    if !store.list_orgs().await?.is_empty() {
        return Ok(());
    }
    let (username, password, generated) = match (
        owner.admin_username.filter(|u| !u.is_empty()),
        owner
            .admin_password
            .filter(|p| !p.expose_secret().is_empty()),
    ) {
        (Some(u), Some(p)) => (Username::parse(&u)?, Password::parse(p)?, false),
        (None, None) => (
            Username::parse("admin@localhost")?,
            Password::generate(),
            true,
        ),
        _ => anyhow::bail!(
            "set both PORTEIRO_ADMIN_USERNAME and PORTEIRO_ADMIN_PASSWORD, or neither"
        ),
    };
    let hash = app
        .state()
        .auth
        .hash_password(password.secret().clone())
        .await?;
    let now = SystemClock.now();
    let Some((org, _)) = store
        .bootstrap("Default organization", &username, &hash, now)
        .await?
    else {
        return Ok(());
    };
    let mut address = app.local_addr();
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    println!("Porteiro first start: created organization {org} and its owner.");
    println!("username: {username}");
    let url = format!("http://{address}/api/v1/auth/token/{org}/");
    if generated {
        println!("password: {} (shown only this once)", password.expose());
        // Letters, digits and the username's e-mail characters: safe inside single quotes.
        let body = json!({"username": username.as_str(), "password": password.expose()});
        println!(
            "curl -s -X POST {url} -H 'Content-Type: application/json' -d {}",
            shell_quote(&body.to_string())
        );
    } else {
        // The password stays out of standard output: curl reads it from the environment and
        // form-encodes it, whatever characters it holds.
        println!(
            "curl -s -X POST {url} --data-urlencode {} --data-urlencode \"password=$PORTEIRO_ADMIN_PASSWORD\"",
            shell_quote(&format!("username={username}"))
        );
    }
    Ok(())
}

/// Quotes `s` for a POSIX shell: single quotes, with each `'` written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
