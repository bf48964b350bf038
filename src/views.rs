//! The JSON of the records that more than one surface prints — the admin API and the command
//! line's `--json` — built in one place, so that an organization, a member or an integration has
//! one shape wherever it is shown. What a surface adds for one answer (a secret shown once, the
//! caller's role) it adds to these objects; key order is kept as written.

use serde_json::{Value, json};

use crate::clock::format_rfc3339_millis;
use crate::domain::{Integration, Member, Organization};

/// `{"id", "name"}`.
pub fn organization(o: &Organization) -> Value {
    json!({"id": o.id, "name": o.name})
}

/// `{"id", "username", "org_id", "role", "active"}`: a member as the admin API and `user list`
/// show it.
pub fn member(m: &Member) -> Value {
    let mut out = membership(m);
    out["active"] = json!(m.active);
    out
}

/// `{"id", "username", "org_id", "role"}`: a member without whether the account is active, which
/// `user create` and `user grant` print. The contract fixes `user create`'s object to these four
/// keys; the account's `active` is not what those commands are about (a new account is active,
/// and a grant changes a membership, not the account).
pub fn membership(m: &Member) -> Value {
    json!({"id": m.id, "username": m.username, "org_id": m.org_id, "role": m.role})
}

/// `{"consumer_key", "name", "org_id", "scope", "created", "last_used", "revoked", "status"}`;
/// never the secret key, which is shown once by whoever creates or rotates it.
pub fn integration(i: &Integration) -> Value {
    json!({
        "consumer_key": i.consumer_key,
        "name": i.name,
        "org_id": i.org_id.get(),
        "scope": i.scopes.items(),
        "created": format_rfc3339_millis(i.created_at),
        "last_used": i.last_used_at.map(format_rfc3339_millis),
        "revoked": i.revoked_at.map(format_rfc3339_millis),
        "status": if i.revoked_at.is_some() { "revoked" } else { "active" },
    })
}
