//! Signing keys at rest and in order, as the API's contract sets them: sealed under the master
//! key, a wrong master key refused at start, clear-text keys of older versions sealed at the
//! first start, rewrap, retirement, and the creation order the database assigns.

mod master_key;
mod older_versions;
mod order;
mod retirement;

use porteiro::config::MasterKeySource;
use porteiro::tokens::master::MasterKey;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::helpers::*;

/// The DER encoding of the OID id-ecPublicKey: in every PKCS#8 ES256 private key, and in
/// nothing else Porteiro stores.
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// The master key `app` runs with, read the way the server reads it.
fn master_key_of(app: &TestApp) -> MasterKey {
    let text = match &app.settings.master_key {
        MasterKeySource::Inline(text) => text.expose_secret().to_owned(),
        MasterKeySource::File(path) => std::fs::read_to_string(path).unwrap(),
        MasterKeySource::Default => {
            std::fs::read_to_string(app.database_dir().join("porteiro.db.key")).unwrap()
        }
    };
    MasterKey::parse(&text, "test").unwrap()
}

/// Whether `needle` is anywhere in the database: every row on PostgreSQL (a `bytea` shows as
/// hex), every byte of the SQLite files (database, log, shared memory; not the key file).
async fn database_contains(app: &TestApp, needle: &[u8]) -> bool {
    if let Some(rows) = app.all_rows_as_text().await {
        let hex = hex::encode(needle);
        return rows.iter().any(|r| r.contains(&hex));
    }
    std::fs::read_dir(app.database_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|e| e != "key"))
        .any(|path| {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
}

/// The kids of the JWKS `app` serves.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn access_kid(app: &TestApp) -> String {
    let (_, access) = app.login().await;
    header(&access)["kid"].as_str().unwrap().to_owned()
}

/// Settings for another instance of `app`'s service, with `master_key`.
fn settings_with(app: &TestApp, master_key: MasterKeySource) -> porteiro::config::Settings {
    let mut settings = (*app.settings).clone();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.issuer = Some(app.auth.tokens().issuer.clone());
    settings.master_key = master_key;
    settings
}

fn inline(key: &MasterKey) -> MasterKeySource {
    MasterKeySource::Inline(key.to_base64())
}
