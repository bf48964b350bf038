//! Independent implementations against Porteiro: authlib's OAuth 2 client drives client
//! credentials, introspection and revocation, and authlib's JOSE verifies the tokens offline
//! with the JWKS. The virtual environment is made once under `target/` from PyPI.

use std::path::PathBuf;
use std::process::Command;

use porteiro::config::Algorithm;

use crate::helpers::*;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A virtual environment with the pinned requirements, made once per target directory.
fn python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| python_venv("interop-venv", &interop_dir().join("requirements.txt")))
        .clone()
}

async fn run_client_against(algorithm: Algorithm) {
    let app = TestApp::spawn_with(|s| s.algorithm = algorithm).await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let python = python();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(interop_dir().join("oauth_client.py"))
            .env("PORTEIRO_URL", address)
            .env("CLIENT_ID", key)
            .env("CLIENT_SECRET", secret)
            .env("EXPECTED_ALG", algorithm.as_str())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{algorithm:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn an_independent_oauth_client_and_jose_library_accept_es256_tokens() {
    run_client_against(Algorithm::ES256).await;
}

#[tokio::test]
async fn an_independent_oauth_client_and_jose_library_accept_eddsa_and_rs256_tokens() {
    run_client_against(Algorithm::EdDSA).await;
    run_client_against(Algorithm::RS256).await;
}

#[tokio::test]
async fn an_independent_rfc9068_resource_server_accepts_the_profile_tokens_for_it_only() {
    const AUDIENCE: &str = "https://api.example.com";
    const OTHER: &str = "urn:example:billing";
    let app = TestApp::spawn_with(|s| {
        s.oauth_token_profile = porteiro::config::OAuthTokenProfile::Rfc9068;
        s.oauth_audience = porteiro::config::ResourceUri::parse(AUDIENCE).ok();
        s.oauth_resources = vec![porteiro::config::ResourceUri::parse(OTHER).unwrap()];
    })
    .await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let python = python();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(interop_dir().join("rfc9068_resource_server.py"))
            .env("PORTEIRO_URL", address)
            .env("CLIENT_ID", key)
            .env("CLIENT_SECRET", secret)
            .env("AUDIENCE", AUDIENCE)
            .env("OTHER_RESOURCE", OTHER)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
