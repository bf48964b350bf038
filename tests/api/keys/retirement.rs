//! `keys retire`: a key withdrawn at once, here and on every other instance, and who signs
//! after it.

use std::time::{Duration, Instant};

use porteiro::auth::keys::Keys;
use porteiro::store::{Retirement, Successor};
use serde_json::json;

use super::{access_kid, published_kids};
use crate::helpers::*;

#[tokio::test]
async fn retiring_the_only_key_withdraws_it_and_its_tokens_at_once_and_a_new_key_signs() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    // Verified once, so the next check of it is a cache hit.
    assert_eq!(app.me(&access).await.status(), 200);

    let ring = &app.auth.tokens().ring;
    let retirement = Keys::of_ring(app.auth.store(), ring)
        .retire_and_reload(ring, &kid, app.now())
        .await
        .unwrap();

    let Retirement::Retired {
        successor: Some(Successor::Created(successor)),
        ..
    } = retirement
    else {
        panic!("no key was created: {retirement:?}");
    };
    assert!(!published_kids(&app).await.contains(&kid));
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(app.verify(&access).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(&refresh).await, 401, TOKEN_NOT_VALID).await;
    let (_, fresh) = app.login().await;
    assert_eq!(header(&fresh)["kid"], json!(successor));
    assert_eq!(app.me(&fresh).await.status(), 200);
}

#[tokio::test]
async fn retiring_the_signing_key_lets_the_newest_other_key_sign_at_once_even_if_it_was_to_activate_later()
 {
    let app = TestApp::spawn().await;
    let kid = access_kid(&app).await;
    let now = app.now();
    let pending = app.create_key(300).await;

    let ring = &app.auth.tokens().ring;
    let retirement = Keys::of_ring(app.auth.store(), ring)
        .retire_and_reload(ring, &kid, now)
        .await
        .unwrap();

    assert_eq!(
        retirement,
        Retirement::Retired {
            algorithm: "ES256".into(),
            successor: Some(Successor::Activated(pending.kid.clone())),
        }
    );
    assert_eq!(access_kid(&app).await, pending.kid);
    assert_eq!(published_kids(&app).await, [pending.kid]);
}

#[tokio::test]
async fn retiring_a_key_that_does_not_sign_leaves_the_signing_key_alone() {
    let app = TestApp::spawn().await;
    let signing = access_kid(&app).await;
    let now = app.now();
    let pending = app.create_key(300).await;
    let ring = &app.auth.tokens().ring;
    let keys = Keys::of_ring(app.auth.store(), ring);

    let retirement = keys
        .retire_and_reload(ring, &pending.kid, now)
        .await
        .unwrap();

    assert!(matches!(
        retirement,
        Retirement::Retired {
            successor: None,
            ..
        }
    ));
    assert_eq!(published_kids(&app).await, std::slice::from_ref(&signing));
    app.clock.advance(300);
    assert_eq!(access_kid(&app).await, signing);
    let unknown = keys.retire_and_reload(ring, "nosuchkid", now).await;
    assert_eq!(unknown.unwrap(), Retirement::Unknown);
    let again = keys.retire_and_reload(ring, &pending.kid, now + 1).await;
    assert_eq!(again.unwrap(), Retirement::AlreadyRetired(now));
}

#[tokio::test]
async fn a_retired_key_is_refused_by_every_other_instance_within_five_seconds() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let (_, access) = a.login().await;
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    assert_eq!(b.me(&access).await.status(), 200);

    let ring = &a.auth.tokens().ring;
    Keys::of_ring(a.auth.store(), ring)
        .retire_and_reload(ring, &kid, a.now())
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(6);
    while b.me(&access).await.status() == 200 {
        assert!(
            Instant::now() < deadline,
            "instance b still accepts the token"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_body_text(b.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert!(!published_kids(&b).await.contains(&kid));
    let (_, fresh) = b.login().await;
    assert_ne!(header(&fresh)["kid"], json!(kid));
    assert_eq!(a.me(&fresh).await.status(), 200);
}
