//! Schema snapshots of connections: read from the target's catalog (through the
//! [`querent_domain::ports::SchemaReader`] port), stored per connection, served from the
//! store. Reading the catalog only reads: the introspector uses read-only transactions and
//! never samples excluded or masked columns.
//!
//! Sample values follow the *current* privacy policy: every snapshot the services read
//! from the store goes through `App::stored_schema`, which drops the samples of masked
//! and excluded columns and of excluded tables, so a column protected after its schema was
//! read never has its values served, linked on, drafted into a semantic model or put in a
//! prompt. A policy change also strips them from the stored snapshot
//! (`App::strip_stored_samples`).

use std::sync::Arc;

use querent_domain::ports::{ProbeError, SchemaReadOptions};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{Connection, ConnectionId, ErrorCode, PrivacyPolicy, TeamRole};

use crate::{Actor, App, ServiceError, ServiceResult};

impl App {
    /// The stored snapshot of a connection; the first call reads the catalog.
    pub async fn get_schema(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<SchemaSnapshot> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        match self.stored_schema(&conn).await? {
            Some(s) => Ok(Arc::unwrap_or_clone(s)),
            None => self.read_and_store_schema(actor, id).await,
        }
    }

    /// The stored snapshot of a connection with the samples its current policy hides
    /// removed; `None` when the catalog was never read.
    ///
    /// A snapshot of a Querent metadata store (stored before stores were refused, say) is
    /// never served, nor one of a target that is a store now: the connection is refused
    /// ([`crate::own_store`]).
    pub(crate) async fn stored_schema(
        &self,
        conn: &Connection,
    ) -> ServiceResult<Option<Arc<SchemaSnapshot>>> {
        // The target itself first: the server's own PostgreSQL store, or a SQLite file that
        // became a store after its (harmless) schema was read.
        self.refuse_own_store_target(&conn.target).await?;
        // This process's copy while the stored snapshot is the one it was made from
        // (stored_copies.rs); a copy was checked by refuse_store_snapshot when made.
        let Some(stamp) = self.store().schema_snapshot_stamp(conn.id).await? else {
            return Ok(None);
        };
        if let Some(s) = self.inner.copies.snapshot(conn.id, &stamp, &conn.privacy) {
            return Ok(Some(s));
        }
        match self.store().schema_snapshot(conn.id).await? {
            Some(mut s) => {
                crate::own_store::refuse_store_snapshot(&s)?;
                s.strip_protected_samples(&conn.privacy);
                let s = Arc::new(s);
                self.inner
                    .copies
                    .keep_snapshot(conn.id, stamp, &conn.privacy, &s);
                Ok(Some(s))
            }
            None => Ok(None),
        }
    }

    /// Removes from the stored snapshot the samples `policy` hides (after a policy change).
    /// A snapshot stored concurrently under the old policy may keep some; reads filter
    /// them anyway ([`App::stored_schema`]).
    pub(crate) async fn strip_stored_samples(
        &self,
        id: ConnectionId,
        policy: &PrivacyPolicy,
    ) -> ServiceResult<usize> {
        let Some(mut snapshot) = self.store().schema_snapshot(id).await? else {
            return Ok(0);
        };
        let stripped = snapshot.strip_protected_samples(policy);
        if stripped > 0 {
            self.store().save_schema_snapshot(id, &snapshot).await?;
        }
        Ok(stripped)
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
        let target = self.usable_target(&conn).await?;
        let mut snapshot = self
            .schema_reader()
            .read_schema(&target, password.as_ref(), &options)
            .await
            .map_err(|e| match e {
                ProbeError::InvalidTarget(m) => ServiceError::validation(m),
                other => ServiceError::new(
                    ErrorCode::ConnectionError,
                    format!("could not read the schema: {other}"),
                ),
            })?;
        // A Querent metadata store is never a target: refused before anything is stored.
        crate::own_store::refuse_store_snapshot(&snapshot)?;
        // The introspector samples nothing the policy hides; this makes sure of it.
        snapshot.strip_protected_samples(&conn.privacy);
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
