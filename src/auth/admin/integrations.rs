//! The administration of integrations: creation (its secret key shown once), revocation and
//! the rotation of its secret key, both of which end its sessions.

use super::{AdminError, Administration, Named, checked_name};
use crate::auth::audit::Kind;
use crate::domain::{ConsumerKey, Integration, OrgId, Scopes, SecretKey};
use crate::store::{AccessChange, WriteError};

impl Administration<'_> {
    /// A new integration with its secret key, which is shown this once and never stored.
    pub async fn create_integration(
        &self,
        org: OrgId,
        name: &str,
        scopes: &Scopes,
        now: i64,
    ) -> Result<(Integration, SecretKey), AdminError> {
        let name = checked_name(name, Named::Integration)?;
        self.require_org(org).await?;
        let secret = SecretKey::generate();
        let record = self
            .store
            .create_integration(
                org,
                &ConsumerKey::generate(),
                &secret.digest(),
                &name,
                scopes,
                now,
            )
            .await
            .map_err(|e| match e {
                WriteError::Duplicate => AdminError::ConsumerKeyCollision,
                WriteError::Database(e) => e.into(),
            })?;
        self.audit(
            Some(org),
            Kind::IntegrationCreated,
            &record.consumer_key,
            now,
        )
        .await?;
        Ok((record, secret))
    }

    pub async fn require_integration(&self, key: &ConsumerKey) -> Result<Integration, AdminError> {
        self.store
            .find_integration(key)
            .await?
            .ok_or_else(|| AdminError::UnknownIntegration(key.to_string()))
    }

    /// Revokes an integration and ends its sessions; returns the ended session ids.
    pub async fn revoke_integration(
        &self,
        key: &ConsumerKey,
        now: i64,
    ) -> Result<Vec<String>, AdminError> {
        let record = self.require_integration(key).await?;
        let change = AccessChange::RevokeIntegration { id: record.id };
        let Some(ended) = self.store.change_access(change, now).await? else {
            return Err(AdminError::IntegrationAlreadyRevoked(key.clone()));
        };
        self.audit(
            Some(record.org_id),
            Kind::IntegrationRevoked,
            key.as_str(),
            now,
        )
        .await?;
        Ok(ended)
    }

    /// Replaces an integration's secret key and ends its sessions; returns the new secret and the
    /// ended session ids.
    pub async fn rotate_integration_secret(
        &self,
        key: &ConsumerKey,
        now: i64,
    ) -> Result<(SecretKey, Vec<String>), AdminError> {
        let record = self.require_integration(key).await?;
        if record.revoked_at.is_some() {
            return Err(AdminError::IntegrationRevoked(key.clone()));
        }
        let secret = SecretKey::generate();
        let digest = secret.digest();
        let change = AccessChange::SetSecret {
            id: record.id,
            digest: &digest,
        };
        let Some(ended) = self.store.change_access(change, now).await? else {
            return Err(AdminError::IntegrationRevoked(key.clone()));
        };
        self.audit(
            Some(record.org_id),
            Kind::IntegrationSecretRotated,
            key.as_str(),
            now,
        )
        .await?;
        Ok((secret, ended))
    }

    pub async fn list_integrations(&self, org: OrgId) -> Result<Vec<Integration>, AdminError> {
        self.require_org(org).await?;
        Ok(self.store.list_integrations(org).await?)
    }
}
