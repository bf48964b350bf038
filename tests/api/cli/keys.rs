//! Signing keys, the master key, the modes of the files that hold them, and migrations.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::*;

/// The DER encoding of the OID id-ecPublicKey: in every PKCS#8 ES256 private key, and in
/// nothing else Porteiro stores.
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// `command` run by `sh` under `umask`: the modes of the files it creates must not depend on it.
fn under_umask(umask: &str, command: Command) -> Command {
    after_shell(&format!("umask {umask}"), &command)
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The `kid` in a JWT's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// An organization with one member who can log in: `(org, username)`.
fn with_a_member(porteiro: &Porteiro) -> (i64, &'static str) {
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "dev@example.com", PASSWORD);
    (org, "dev@example.com")
}

/// Whether any file of the workspace but the master key's holds `needle`.
fn database_files_contain(porteiro: &Porteiro, needle: &[u8]) -> bool {
    std::fs::read_dir(porteiro.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|e| e != "key"))
        .any(|path| {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
}

/// Waits until `server`'s JWKS no longer lists `kid`, for at most six seconds.
async fn wait_until_unpublished(server: &RunningServer, kid: &str) {
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let jwks: Value = server
            .client
            .get(server.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server still publishes {kid}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

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

#[tokio::test]
async fn of_two_keys_rotated_within_one_second_with_activate_in_0s_the_later_one_signs_every_time()
{
    for round in 0..4 {
        let porteiro = Porteiro::new();
        let (org, username) = with_a_member(&porteiro);
        porteiro.json("keys rotate --activate-in 0s --json");
        let later = porteiro.json("keys rotate --activate-in 0s --json");
        let server = porteiro.serve().await;

        let (_, access) = server.tokens(org, username, PASSWORD).await;

        assert_eq!(
            kid_of(&access),
            later["kid"].as_str().unwrap(),
            "round {round}"
        );
    }
}

#[test]
fn keys_rotate_stores_no_private_key_in_clear_text() {
    let porteiro = Porteiro::new();

    porteiro.json("keys rotate --activate-in 0s --json");
    porteiro.json("keys rotate --json");

    assert!(porteiro.has_file("porteiro.db.key"));
    assert!(!database_files_contain(&porteiro, EC_PUBLIC_KEY_OID));
}

#[tokio::test]
async fn keys_retire_withdraws_a_key_from_a_running_server_within_five_seconds_and_another_signs() {
    let porteiro = Porteiro::new();
    let (org, username) = with_a_member(&porteiro);
    let server = porteiro.serve().await;
    let (_, access) = server.tokens(org, username, PASSWORD).await;
    let kid = kid_of(&access);
    assert_eq!(server.me(&access).await.status(), 200);

    let retired = porteiro.json(&format!("keys retire {kid} --json"));

    let signing = retired["signing"].as_str().expect("a key signs instead");
    assert_ne!(signing, kid);
    wait_until_unpublished(&server, &kid).await;
    assert_eq!(server.me(&access).await.status(), 401);
    let (_, fresh) = server.tokens(org, username, PASSWORD).await;
    assert_eq!(kid_of(&fresh), signing);
    let keys = porteiro.json("keys list --json");
    let listed = keys.as_array().unwrap().iter().find(|k| k["kid"] == kid);
    assert_eq!(listed.unwrap()["retired"], retired["retired"]);
}

#[test]
fn keys_retire_of_an_unknown_kid_exits_2() {
    let porteiro = Porteiro::new();
    porteiro.json("keys rotate --json");

    porteiro
        .run("keys retire 0000000000000000")
        .assert_refused();
}

// The master key

#[test]
fn keys_generate_master_key_prints_32_random_bytes_in_base64_and_opens_no_database() {
    let porteiro = Porteiro::new();

    let first = porteiro.run("keys generate-master-key");
    let second = porteiro.json("keys generate-master-key --json");

    assert!(first.status.success(), "{first:?}");
    let text = first.stdout.trim();
    assert_eq!(STANDARD.decode(text).unwrap().len(), 32, "{text}");
    let other = second["master_key"].as_str().unwrap();
    assert_eq!(STANDARD.decode(other).unwrap().len(), 32);
    assert_ne!(text, other);
    assert!(!porteiro.has_file("porteiro.db"));
}

#[cfg(unix)]
#[test]
fn keys_generate_master_key_out_writes_a_file_only_its_owner_reads_and_never_overwrites_one() {
    let porteiro = Porteiro::new();
    let args = ["keys", "generate-master-key", "--out", "new.key", "--json"];

    let written = run_to_completion(under_umask("022", porteiro.command(&args, &[])), "");
    let path = porteiro.dir.path().join("new.key");
    let before = std::fs::read_to_string(&path).unwrap();
    let again = run_to_completion(under_umask("022", porteiro.command(&args, &[])), "");

    assert_eq!(written.json(), json!({"file": "new.key"}));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(STANDARD.decode(before.trim()).unwrap().len(), 32);
    again.assert_refused();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[tokio::test]
async fn serve_with_a_wrong_master_key_exits_2_saying_that_it_does_not_match() {
    let porteiro = Porteiro::new();
    porteiro.json("keys rotate --json");
    let wrong = porteiro.json("keys generate-master-key --json");
    let wrong = wrong["master_key"].as_str().unwrap();

    let refused = run_to_completion(
        porteiro.command(
            &["serve", "--listen", &format!("127.0.0.1:{}", free_port())],
            &[("PORTEIRO_MASTER_KEY", wrong)],
        ),
        "",
    );

    refused.assert_refused();
    assert!(
        refused
            .stderr
            .contains("the master key does not match this database"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn serve_on_postgres_without_a_master_key_exits_2_saying_how_to_make_one() {
    if crate::helpers::postgres_base().is_none() {
        return;
    }
    let porteiro = Porteiro::new();
    let database = crate::helpers::fresh_database(&porteiro.dir).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut command = porteiro.bare_command(&[]);
    command.args(["--database", &database, "serve", "--listen", &listen]);

    let refused = run_to_completion(command, "");

    refused.assert_refused();
    assert!(
        refused.stderr.contains("porteiro keys generate-master-key"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn keys_rewrap_moves_the_keys_to_a_new_master_key_and_the_old_one_is_then_refused() {
    let porteiro = Porteiro::new();
    let (org, username) = with_a_member(&porteiro);
    let key = porteiro.json("keys rotate --activate-in 0s --json");
    porteiro.json("keys generate-master-key --out new.key --json");

    let rewrapped = porteiro.json("keys rewrap --new-master-key-file new.key --json");

    assert_eq!(rewrapped["keys"], 1);
    let listen = format!("127.0.0.1:{}", free_port());
    let old = run_to_completion(porteiro.command(&["serve", "--listen", &listen], &[]), "");
    old.assert_refused();
    assert!(old.stderr.contains("does not match"), "{old:?}");
    let server = porteiro
        .serve_with(|args| {
            let mut command = porteiro.command(args, &[]);
            command.args(["--master-key-file", "new.key"]);
            command
        })
        .await;
    let (_, access) = server.tokens(org, username, PASSWORD).await;
    assert_eq!(kid_of(&access), key["kid"].as_str().unwrap());
    porteiro
        .run("keys rewrap --new-master-key-file missing.key")
        .assert_refused();
}

// Files

#[cfg(unix)]
#[tokio::test]
async fn serve_creates_the_database_its_log_and_the_master_key_file_readable_by_their_owner_only() {
    let porteiro = Porteiro::new();

    let _server = porteiro
        .serve_with(|args| under_umask("022", porteiro.command(args, &[])))
        .await;

    for name in [
        "porteiro.db",
        "porteiro.db-wal",
        "porteiro.db-shm",
        "porteiro.db.key",
    ] {
        assert_eq!(mode(&porteiro.dir.path().join(name)), 0o600, "{name}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn serve_makes_a_database_that_others_could_read_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let porteiro = Porteiro::new();
    porteiro.json("migrate --json");
    let database = porteiro.dir.path().join("porteiro.db");
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();

    let _server = porteiro.serve().await;

    assert_eq!(mode(&database), 0o600);
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

#[test]
fn several_processes_migrating_one_new_database_at_once_all_succeed() {
    for _ in 0..3 {
        let porteiro = Porteiro::new();
        let started: Vec<_> = (0..6)
            .map(|_| {
                porteiro
                    .command(&["migrate"], &[])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in started {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The database works: a later command reads and writes it.
        porteiro.json("org create --name Acme --json");
    }
}
