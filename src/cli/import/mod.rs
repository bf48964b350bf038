//! `porteiro user import --from-django`: Django's users brought in with their password hashes,
//! which Porteiro verifies as Django does until each user's first login re-hashes theirs to
//! argon2id. Hashes are copied, not computed, so a large import takes seconds. Every record is
//! checked before anything is written; a bad one is reported with where it is and why, and the
//! others go on (or, with `--strict`, nothing is written).

mod source;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Failure, Output};
use crate::auth::admin::Administration;
use crate::auth::hashing::{DjangoPassword, classify_django_password};
use crate::domain::{OrgId, Role, Username};
use crate::store::{ImportedAccount, Store};

pub(crate) use source::UsernameField;

/// Accounts written per transaction: large enough that an import of 100,000 users is a hundred
/// commits, small enough that a server sharing the database never waits long behind one.
const BATCH: usize = 1000;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// A Django `manage.py dumpdata auth.user` JSON file, a Django SQLite database file, or the
    /// `postgres://` URL of a Django database.
    #[arg(long = "from-django", value_name = "FILE|URL")]
    from_django: String,
    /// The organization every imported user joins.
    #[arg(long, value_name = "ID", required_unless_present = "memberships")]
    org: Option<OrgId>,
    /// The role they get in it.
    #[arg(long, value_name = "ROLE", default_value = "member")]
    role: Role,
    /// The role of Django's staff and superusers (is_staff or is_superuser); without it they
    /// get --role like everyone.
    #[arg(long, value_name = "ROLE")]
    staff_role: Option<Role>,
    /// A CSV file of `username,org_id,role` lines giving each user's memberships, instead of
    /// --org.
    #[arg(long, value_name = "FILE", conflicts_with = "org")]
    memberships: Option<PathBuf>,
    /// The Django field that becomes the Porteiro username (an e-mail address).
    #[arg(long, value_enum, default_value = "username")]
    username_field: UsernameField,
    /// The user table of a Django database, for a custom user model.
    #[arg(long, value_name = "NAME", default_value = "auth_user")]
    table: String,
    /// Also import the salted and unsalted MD5 and SHA-1 hashes of old Django versions (each is
    /// replaced by argon2id at the user's first login).
    #[arg(long)]
    allow_weak_hashes: bool,
    /// Refresh the password hash and active flag of accounts that exist already and are
    /// members of the organization (a changed password ends their sessions); the hash only of
    /// those who have not logged in to Porteiro yet.
    #[arg(long)]
    update: bool,
    /// Stop at the first bad record, writing nothing.
    #[arg(long)]
    strict: bool,
    /// Report what would happen and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// What happened, and to which records.
#[derive(Debug, Default)]
struct Summary {
    imported: usize,
    skipped: usize,
    updated: usize,
    weak: usize,
    unusable: usize,
    failures: Vec<(String, Option<String>, String)>,
}

/// A record ready to write, and what kind of password it has.
struct Prepared {
    account: ImportedAccount,
    weak: bool,
    unusable: bool,
}

pub(super) async fn import_users(
    args: ImportArgs,
    store: &Store,
    now: i64,
) -> Result<Output, Failure> {
    let memberships = match &args.memberships {
        Some(path) => Some(read_memberships(path)?),
        None => None,
    };
    let orgs: HashSet<OrgId> = match &memberships {
        Some(m) => m.values().flatten().map(|(org, _)| *org).collect(),
        None => args.org.into_iter().collect(),
    };
    for org in &orgs {
        Administration::operator(store).require_org(*org).await?;
    }
    let records = source::read(&args.from_django, &args.table, args.username_field)
        .await
        .map_err(Failure::Refused)?;
    let mut summary = Summary::default();
    let mut seen: HashMap<Username, String> = HashMap::new();
    let mut ready = Vec::with_capacity(records.len());
    for record in records {
        let raw = record.username.clone();
        match prepare(&args, memberships.as_ref(), &record, &mut seen) {
            Ok(prepared) => ready.push(prepared),
            Err(reason) if args.strict => {
                return Err(Failure::Refused(format!(
                    "{}: {reason}; nothing was written (--strict)",
                    record.position
                )));
            }
            Err(reason) => summary.failures.push((record.position, raw, reason)),
        }
    }
    for batch in ready.chunks(BATCH) {
        let accounts: Vec<ImportedAccount> = batch.iter().map(|p| p.account.clone()).collect();
        let created = store
            .insert_imported_accounts(&accounts, now, !args.dry_run)
            .await
            .map_err(crate::auth::admin::AdminError::from)?;
        for (prepared, created) in batch.iter().zip(created) {
            let counted = if created {
                summary.imported += 1;
                true
            } else if args.update && update(store, &prepared.account, args.dry_run, now).await? {
                summary.updated += 1;
                true
            } else {
                summary.skipped += 1;
                false
            };
            summary.weak += usize::from(counted && prepared.weak);
            summary.unusable += usize::from(counted && prepared.unusable);
        }
    }
    Ok(report(&summary, args.dry_run))
}

/// Checks one record and turns it into an account to write, or says why it cannot be.
fn prepare(
    args: &ImportArgs,
    memberships: Option<&HashMap<Username, Vec<(OrgId, Role)>>>,
    record: &source::Record,
    seen: &mut HashMap<Username, String>,
) -> Result<Prepared, String> {
    let raw = record.username.as_deref().ok_or("no username")?;
    let username = Username::parse(raw).map_err(|e| e.to_string())?;
    if let Some(first) = seen.get(&username) {
        return Err(format!("the same username as {first}"));
    }
    let password = record.password.as_deref().ok_or("no password field")?;
    let (password_hash, weak, unusable) = match classify_django_password(password)? {
        DjangoPassword::Unusable => (password.to_owned(), false, true),
        DjangoPassword::Hash {
            algorithm,
            weak: true,
            ..
        } if !args.allow_weak_hashes => {
            return Err(format!(
                "weak {algorithm} hash (imported only with --allow-weak-hashes)"
            ));
        }
        DjangoPassword::Hash { stored, weak, .. } => (stored, weak, false),
    };
    let memberships = match memberships {
        Some(m) => m
            .get(&username)
            .cloned()
            .ok_or("no line in the memberships file")?,
        None => {
            let org = args.org.ok_or("no organization")?;
            let role = match args.staff_role {
                Some(staff) if record.staff => staff,
                _ => args.role,
            };
            vec![(org, role)]
        }
    };
    seen.insert(username.clone(), record.position.clone());
    Ok(Prepared {
        account: ImportedAccount {
            username,
            password_hash,
            active: record.active,
            memberships,
        },
        weak,
        unusable,
    })
}

/// Brings an existing account's hash and active flag to the imported ones, when it is a member
/// of the organization it is imported into; whether anything changed (or would have).
async fn update(
    store: &Store,
    account: &ImportedAccount,
    dry_run: bool,
    now: i64,
) -> Result<bool, Failure> {
    let Some((org, _)) = account.memberships.first() else {
        return Ok(false);
    };
    let existing = store
        .find_login(&account.username, Some(*org))
        .await
        .map_err(crate::auth::admin::AdminError::from)?;
    let Some(existing) = existing.filter(|e| e.role.is_some()) else {
        return Ok(false);
    };
    // Once a user has logged in to Porteiro their hash is Porteiro's own (a PHC string, `$…`),
    // and Porteiro holds their password from then on: a later import never puts Django's back.
    let new_hash =
        existing.password_hash != account.password_hash && !existing.password_hash.starts_with('$');
    let new_active = existing.active != account.active;
    if !dry_run {
        let admin = Administration::operator(store);
        if new_hash {
            admin
                .set_password(&account.username, &account.password_hash, now)
                .await?;
        }
        if new_active {
            admin
                .set_active(&account.username, account.active, now)
                .await?;
        }
    }
    Ok(new_hash || new_active)
}

/// Reads `username,org_id,role` lines (a header line naming them is allowed).
fn read_memberships(path: &Path) -> Result<HashMap<Username, Vec<(OrgId, Role)>>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Refused(format!("cannot read {}: {e}", path.display())))?;
    let mut memberships: HashMap<Username, Vec<(OrgId, Role)>> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.replace(' ', "") == "username,org_id,role") {
            continue;
        }
        let bad =
            |why: String| Failure::Refused(format!("{} line {}: {why}", path.display(), i + 1));
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [username, org, role] = fields[..] else {
            return Err(bad("expected username,org_id,role".into()));
        };
        let username = Username::parse(username).map_err(|e| bad(e.to_string()))?;
        let org: OrgId = org
            .parse()
            .map_err(|_| bad(format!("{org:?} is not an organization id")))?;
        let role: Role = role.parse().map_err(|e| bad(format!("{e}")))?;
        memberships.entry(username).or_default().push((org, role));
    }
    Ok(memberships)
}

fn report(summary: &Summary, dry_run: bool) -> Output {
    let failed: Vec<_> = summary
        .failures
        .iter()
        .map(|(position, username, reason)| {
            json!({"record": position, "username": username, "reason": reason})
        })
        .collect();
    let mut human: Vec<String> = summary
        .failures
        .iter()
        .map(|(position, username, reason)| match username {
            Some(u) => format!("{position} ({u:?}): {reason}"),
            None => format!("{position}: {reason}"),
        })
        .collect();
    human.push(format!(
        "imported {}, skipped {}, updated {}, weak {}, unusable {}, failed {}{}",
        summary.imported,
        summary.skipped,
        summary.updated,
        summary.weak,
        summary.unusable,
        summary.failures.len(),
        if dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    ));
    Output {
        json: json!({
            "imported": summary.imported,
            "skipped": summary.skipped,
            "updated": summary.updated,
            "weak": summary.weak,
            "unusable": summary.unusable,
            "failed": summary.failures.len(),
            "dry_run": dry_run,
            "failures": failed,
        }),
        human: human.join("\n"),
    }
}
