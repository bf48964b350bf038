//! Signing keys and migrations.

use super::*;

#[test]
fn keys_list_with_json_shows_kid_algorithm_created_activates_retired_and_no_private_material() {
    let porteiro = Porteiro::new();
    porteiro.json("keys rotate --activate-in 0s --json");
    porteiro.json("keys rotate --activate-in 5m --json");

    let keys = porteiro.json("keys list --json");

    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in keys {
        assert_eq!(
            keys_of(key),
            ["activates", "algorithm", "created", "kid", "retired"]
        );
        assert_eq!(key["algorithm"], "ES256");
        assert!(key["kid"].is_string(), "{key}");
    }
    assert_eq!(keys[0]["retired"], keys[1]["activates"]);
    assert_eq!(keys[1]["retired"], Value::Null);
}

#[test]
fn keys_rotate_with_activate_in_0s_adds_a_key_that_activates_when_created() {
    let porteiro = Porteiro::new();
    porteiro.json("migrate --json");
    let before = porteiro.json("keys list --json");

    let rotated = porteiro.json("keys rotate --activate-in 0s --json");

    let after = porteiro.json("keys list --json");
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), before.as_array().unwrap().len() + 1);
    let added = after
        .iter()
        .find(|k| k["kid"] == rotated["kid"])
        .expect("the new key is listed");
    assert_eq!(added["created"], added["activates"]);
    assert_eq!(rotated["activates"], added["activates"]);
}

#[test]
fn keys_rotate_with_activate_in_10m_activates_ten_minutes_after_creation() {
    let porteiro = Porteiro::new();

    let rotated = porteiro.json("keys rotate --activate-in 10m --json");

    let created = seconds_since_epoch(&rotated["created"]);
    let activates = seconds_since_epoch(&rotated["activates"]);
    assert_eq!(activates - created, 600, "{rotated}");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        created.abs_diff(now) < 120,
        "created {created} is not now ({now})"
    );
}

// Migrations

#[test]
fn migrate_exits_0_twice_in_a_row() {
    let porteiro = Porteiro::new();

    let first = porteiro.run("migrate");
    let second = porteiro.run("migrate");

    assert!(first.status.success(), "{first:?}");
    assert!(second.status.success(), "{second:?}");
}
