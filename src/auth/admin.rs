//! Administration of organizations and users, shared by the command line and (later) the
//! console. Every change that takes access away ends the sessions it concerns.

use crate::domain::{ConsumerKey, OrgId, Role, Scopes, SecretKey, UserId, Username};
use crate::store::{EndReason, IntegrationRecord, MemberRecord, Organization, Store, WriteError};

/// Why an administrative change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Duplicate(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<crate::domain::ParseError> for AdminError {
    fn from(e: crate::domain::ParseError) -> Self {
        AdminError::Invalid(e.0)
    }
}

pub async fn create_org(store: &Store, name: &str, now: i64) -> Result<Organization, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "an organization name needs 1 to 200 printable characters".into(),
        ));
    }
    store.create_org(name, now).await.map_err(|e| match e {
        WriteError::Duplicate => {
            AdminError::Duplicate(format!("an organization named {name:?} already exists"))
        }
        WriteError::Database(e) => e.into(),
    })
}

pub async fn require_org(store: &Store, org: OrgId) -> Result<(), AdminError> {
    if store.org_exists(org).await? {
        Ok(())
    } else {
        Err(AdminError::NotFound(format!(
            "there is no organization {org}"
        )))
    }
}

pub async fn require_user(store: &Store, username: &Username) -> Result<UserId, AdminError> {
    store
        .find_user(username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| AdminError::NotFound(format!("there is no user {username}")))
}

pub async fn create_user(
    store: &Store,
    org: OrgId,
    username: &Username,
    role: Role,
    password_hash: &str,
    now: i64,
) -> Result<MemberRecord, AdminError> {
    require_org(store, org).await?;
    let id = store
        .create_user(username, password_hash, org, role, now)
        .await
        .map_err(|e| match e {
            WriteError::Duplicate => AdminError::Duplicate(format!(
                "user {username} already exists; use `user grant` to add them to another organization"
            )),
            WriteError::Database(e) => e.into(),
        })?;
    Ok(MemberRecord {
        id: id.get(),
        username: username.to_string(),
        org_id: org.get(),
        role: role.as_str().to_owned(),
        active: true,
    })
}

/// Adds a membership or changes its role.
pub async fn grant(
    store: &Store,
    username: &Username,
    org: OrgId,
    role: Role,
    now: i64,
) -> Result<MemberRecord, AdminError> {
    require_org(store, org).await?;
    let user = require_user(store, username).await?;
    store.grant(user, org, role, now).await?;
    store
        .list_members(org)
        .await?
        .into_iter()
        .find(|m| m.id == user.get())
        .ok_or_else(|| AdminError::Internal(anyhow::anyhow!("membership vanished")))
}

/// Removes a user from an organization and ends their sessions there.
pub async fn revoke(
    store: &Store,
    username: &Username,
    org: OrgId,
    now: i64,
) -> Result<(), AdminError> {
    require_org(store, org).await?;
    let user = require_user(store, username).await?;
    if !store.remove_membership(user, org).await? {
        return Err(AdminError::NotFound(format!(
            "{username} is not a member of organization {org}"
        )));
    }
    store
        .end_user_sessions(user, Some(org), now, EndReason::LeftOrganization)
        .await?;
    Ok(())
}

/// Disables or enables a user; disabling ends every session of theirs.
pub async fn set_active(
    store: &Store,
    username: &Username,
    active: bool,
    now: i64,
) -> Result<UserId, AdminError> {
    let user = require_user(store, username).await?;
    store.set_user_active(user, active).await?;
    if !active {
        store
            .end_user_sessions(user, None, now, EndReason::UserDisabled)
            .await?;
    }
    Ok(user)
}

/// Changes a password and ends every session of the user.
pub async fn set_password(
    store: &Store,
    username: &Username,
    password_hash: &str,
    now: i64,
) -> Result<UserId, AdminError> {
    let user = require_user(store, username).await?;
    store.set_password_hash(user, password_hash).await?;
    store
        .end_user_sessions(user, None, now, EndReason::PasswordChanged)
        .await?;
    Ok(user)
}

pub async fn list_members(store: &Store, org: OrgId) -> Result<Vec<MemberRecord>, AdminError> {
    require_org(store, org).await?;
    Ok(store.list_members(org).await?)
}

/// A new integration with its secret key, which is shown this once and never stored.
pub async fn create_integration(
    store: &Store,
    org: OrgId,
    name: &str,
    scopes: &Scopes,
    now: i64,
) -> Result<(IntegrationRecord, SecretKey), AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "an integration name needs 1 to 200 printable characters".into(),
        ));
    }
    require_org(store, org).await?;
    let secret = SecretKey::generate();
    let record = store
        .create_integration(
            org,
            &ConsumerKey::generate(),
            &secret.digest(),
            name,
            scopes,
            now,
        )
        .await
        .map_err(|e| match e {
            WriteError::Duplicate => {
                AdminError::Duplicate("consumer key collision; try again".into())
            }
            WriteError::Database(e) => e.into(),
        })?;
    Ok((record, secret))
}

pub async fn require_integration(
    store: &Store,
    key: &ConsumerKey,
) -> Result<IntegrationRecord, AdminError> {
    store
        .find_integration(key)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("there is no integration {key}")))
}

/// Revokes an integration and ends its sessions; returns the ended session ids.
pub async fn revoke_integration(
    store: &Store,
    key: &ConsumerKey,
    now: i64,
) -> Result<Vec<String>, AdminError> {
    let record = require_integration(store, key).await?;
    if !store.revoke_integration(record.id, now).await? {
        return Err(AdminError::Invalid(format!(
            "integration {key} is already revoked"
        )));
    }
    Ok(store
        .end_integration_sessions(record.id, now, EndReason::IntegrationRevoked)
        .await?)
}

/// Replaces an integration's secret key and ends its sessions; returns the new secret and the
/// ended session ids.
pub async fn rotate_integration_secret(
    store: &Store,
    key: &ConsumerKey,
    now: i64,
) -> Result<(SecretKey, Vec<String>), AdminError> {
    let record = require_integration(store, key).await?;
    if record.revoked_at.is_some() {
        return Err(AdminError::Invalid(format!("integration {key} is revoked")));
    }
    let secret = SecretKey::generate();
    store
        .set_integration_secret(record.id, &secret.digest())
        .await?;
    let ended = store
        .end_integration_sessions(record.id, now, EndReason::SecretRotated)
        .await?;
    Ok((secret, ended))
}

pub async fn list_integrations(
    store: &Store,
    org: OrgId,
) -> Result<Vec<IntegrationRecord>, AdminError> {
    require_org(store, org).await?;
    Ok(store.list_integrations(org).await?)
}
