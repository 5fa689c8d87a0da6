//! Schema snapshots of connections: read from the target's catalog (through the
//! [`querent_domain::ports::SchemaReader`] port), stored per connection, served from the
//! store. Reading the catalog only reads: the introspector uses read-only transactions and
//! never samples excluded or masked columns.

use querent_domain::ports::{ProbeError, SchemaReadOptions};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionId, ErrorCode, TeamRole};

use crate::{Actor, App, ServiceError, ServiceResult};

impl App {
    /// The stored snapshot of a connection; the first call reads the catalog.
    pub async fn get_schema(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<SchemaSnapshot> {
        self.load_connection(actor, id, TeamRole::Viewer).await?;
        match self.store().schema_snapshot(id).await? {
            Some(s) => Ok(s),
            None => self.read_and_store_schema(actor, id).await,
        }
    }

    /// Reads the catalog again and stores the new snapshot (editor or above).
    pub async fn refresh_schema(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<SchemaSnapshot> {
        self.load_connection(actor, id, TeamRole::Editor).await?;
        self.read_and_store_schema(actor, id).await
    }

    pub(crate) async fn read_and_store_schema(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<SchemaSnapshot> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        let password = conn
            .encrypted_secret
            .as_deref()
            .map(|c| self.crypto().decrypt(c))
            .transpose()?;
        let options = SchemaReadOptions {
            schemas: conn.schemas.clone(),
            sample_values: conn.sample_values,
            privacy: conn.privacy.clone(),
            connect_timeout: self.config().connect_timeout,
        };
        let snapshot = self
            .schema_reader()
            .read_schema(&conn.target, password.as_ref(), &options)
            .await
            .map_err(|e| match e {
                ProbeError::InvalidTarget(m) => ServiceError::validation(m),
                other => ServiceError::new(
                    ErrorCode::ConnectionError,
                    format!("could not read the schema: {other}"),
                ),
            })?;
        // The connection may have been deleted while its catalog was read.
        self.store()
            .save_schema_snapshot(id, &snapshot)
            .await
            .map_err(|e| match e {
                querent_domain::ports::StoreError::MissingReference(_) => {
                    ServiceError::not_found("connection")
                }
                other => other.into(),
            })?;
        // Entries validated against another schema can no longer be trusted to mean the
        // same thing: drop them (the new fingerprint's entries, if any, stay).
        if let Err(e) = self.cache_invalidate(id, Some(&snapshot.fingerprint)).await {
            tracing::warn!(error = %e.detail, connection = %id, "could not invalidate the cache");
        }
        self.audit_by(
            actor,
            "connection.schema_refresh",
            format!("connection:{id}"),
            Some(format!("fingerprint={}", snapshot.fingerprint)),
        )
        .await;
        Ok(snapshot)
    }
}
