//! Reading the audit log (server administrators only).

use querent_domain::{AuditEntry, millis_to_rfc3339};
use serde::Serialize;

use crate::{Actor, App, ServiceError, ServiceResult};

/// An audit entry on the wire.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditView {
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// Extra detail.
    pub detail: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            ip: e.ip,
            at: millis_to_rfc3339(e.at),
        }
    }
}

impl App {
    /// The newest audit entries, newest first (1–500).
    pub async fn recent_audit(
        &self,
        actor: &Actor,
        limit: Option<i64>,
    ) -> ServiceResult<Vec<AuditView>> {
        self.require_admin(actor)?;
        let limit = limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ServiceError::validation("limit: must be between 1 and 500"));
        }
        Ok(self
            .store()
            .recent_audit(limit)
            .await?
            .into_iter()
            .map(AuditView::from)
            .collect())
    }
}
