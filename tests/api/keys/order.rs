//! The creation order the database assigns: of keys rotated in the same second, the later signs.

use porteiro::auth::keys::Keys;

use super::access_kid;
use crate::helpers::*;

#[tokio::test]
async fn of_two_keys_rotated_at_once_within_one_second_the_later_one_signs_every_time() {
    let app = TestApp::spawn().await;
    let ring = &app.auth.tokens().ring;
    // The first start's key, and every key after it, in the same second of the test's clock.
    let now = app.now();
    for round in 0..6 {
        let keys = Keys::of_ring(app.auth.store(), ring);
        keys.create_and_reload(ring, now, now).await.unwrap();
        let newest = keys.create_and_reload(ring, now, now).await.unwrap();

        assert_eq!(access_kid(&app).await, newest.kid, "round {round}");
    }
}
