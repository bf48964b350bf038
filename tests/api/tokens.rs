//! Token format, algorithms, pinning and key rotation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use porteiro::config::Algorithm;
use serde_json::{Value, json};

use crate::helpers::*;

/// Re-signs nothing: swaps the payload of a token, keeping header and signature.
fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(payload.to_string()),
        parts[2]
    )
}

fn is_hex32(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[tokio::test]
async fn user_tokens_carry_every_claim_of_the_contract() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        let h = header(token);
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["typ"], "JWT");
        assert!(h["kid"].is_string());
        let c = claims(token);
        assert_eq!(c["token_type"], kind);
        assert!(c["exp"].is_i64() && c["iat"].is_i64());
        assert!(is_hex32(&c["jti"]) && is_hex32(&c["sid"]));
        assert_eq!(c["iss"], app.address);
        assert_eq!(c["org_id"], app.org.get());
        assert_eq!(c["sub"], c["user_id"].to_string());
    }
    assert_eq!(
        claims(&access)["exp"].as_i64().unwrap() - claims(&access)["iat"].as_i64().unwrap(),
        3600
    );
}

#[tokio::test]
async fn every_selectable_algorithm_signs_and_verifies() {
    // SAFETY of the environment: HS256 reads its secret from the environment at resolve time,
    // so it is set directly on the settings here instead.
    for algorithm in [Algorithm::EdDSA, Algorithm::RS256, Algorithm::HS256] {
        let app = TestApp::spawn_with(|s| {
            s.algorithm = algorithm;
            s.hs256_secret = Some(secrecy::SecretString::from(
                "a shared secret of at least 32 bytes!",
            ));
        })
        .await;
        let (refresh, access) = app.login().await;
        assert_eq!(header(&access)["alg"], algorithm.as_str());
        assert_eq!(app.me(&access).await.status(), 200, "{algorithm:?}");
        assert_eq!(app.refresh(&refresh).await.status(), 200, "{algorithm:?}");
        let jwks: Value = app
            .get("/.well-known/jwks.json")
            .await
            .json()
            .await
            .unwrap();
        let published = jwks["keys"].as_array().unwrap().len();
        assert_eq!(
            published,
            usize::from(algorithm != Algorithm::HS256),
            "{algorithm:?}"
        );
    }
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let mut c = claims(&access);
    c["org_id"] = json!(2);
    assert_body_text(
        app.me(&with_payload(&access, &c)).await,
        401,
        BEARER_NOT_VALID,
    )
    .await;
}

#[tokio::test]
async fn alg_none_and_other_algorithms_are_refused() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let c = claims(&access);
    let kid = header(&access)["kid"].clone();
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        B64.encode(c.to_string())
    );
    assert_body_text(app.me(&none).await, 401, BEARER_NOT_VALID).await;
    // HS256 with the published public key as the HMAC secret: the classic confusion attack.
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let secret = jwks["keys"][0].to_string();
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: kid.as_str().map(str::to_owned),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &c,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_body_text(app.me(&forged).await, 401, BEARER_NOT_VALID).await;
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let parts: Vec<&str> = access.split('.').collect();
    let h = json!({"alg": "ES256", "typ": "JWT", "kid": "unknown"});
    let token = format!("{}.{}.{}", B64.encode(h.to_string()), parts[1], parts[2]);
    assert_body_text(app.me(&token).await, 401, BEARER_NOT_VALID).await;
}

#[tokio::test]
async fn a_rotated_key_is_published_at_once_and_signs_only_from_its_activation() {
    let app = TestApp::spawn().await;
    let (_, before) = app.login().await;
    let old_kid = header(&before)["kid"].clone();
    let key = app.create_key(300).await;

    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(kids.contains(&&json!(key.kid)) && kids.contains(&&old_kid));
    let (_, still_old) = app.login().await;
    assert_eq!(header(&still_old)["kid"], old_kid);

    app.clock.advance(300);
    let (_, after) = app.login().await;
    assert_eq!(header(&after)["kid"], json!(key.kid));
    // Tokens of the old key keep working until they expire.
    assert_eq!(app.me(&still_old).await.status(), 200);
}

#[tokio::test]
async fn a_superseded_key_leaves_the_jwks_once_its_tokens_have_expired() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let old_kid = header(&access)["kid"].clone();
    app.clock.advance(1);
    app.create_key(0).await;
    // The longest lifetime is the integration refresh token's 48 h, plus a reload margin.
    app.clock.advance(48 * 3600 + 120);
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert!(!kids.contains(&old_kid));
    assert_eq!(kids.len(), 1);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let other = TestApp::spawn_with(|s| s.issuer = Some("https://elsewhere.example".into())).await;
    // Same database keys are not shared, so present the first app's token to itself with a
    // rewritten issuer: the signature no longer matches either way.
    let mut c = claims(&access);
    c["iss"] = json!("https://elsewhere.example");
    assert_eq!(app.me(&with_payload(&access, &c)).await.status(), 401);
    assert_eq!(other.me(&access).await.status(), 401);
}
