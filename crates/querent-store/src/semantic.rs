//! Semantic models (`semantic_models`): one row per saved version of a connection's model,
//! the model itself as JSON. Versions are never overwritten: the primary key
//! `(connection_id, version)` turns a second save of the same version into
//! [`StoreError::Conflict`], which is what optimistic locking needs.

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use querent_domain::ConnectionId;
use querent_domain::ports::{DocumentStamp, SemanticModelStore};
use querent_domain::semantic::{SemanticModel, SemanticModelVersion};

use crate::schema::semantic_models;
use crate::{DbError, Store, StoreError, StoreResult};

/// One stored version.
#[derive(Queryable, Insertable)]
#[diesel(table_name = semantic_models)]
struct SemanticModelRow {
    connection_id: String,
    version: i32,
    model: String,
    schema_fingerprint: String,
    created_by: Option<String>,
    created_at: i64,
}

impl SemanticModelRow {
    fn from_domain(model: &SemanticModel, created_by: Option<&str>) -> Result<Self, StoreError> {
        let version = i32::try_from(model.version)
            .map_err(|_| StoreError::Database(format!("version {} too large", model.version)))?;
        let json = serde_json::to_string(model).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            connection_id: model.connection_id.to_string(),
            version,
            model: json,
            schema_fingerprint: model.schema_fingerprint.clone(),
            created_by: created_by.map(str::to_owned),
            created_at: model.updated_at,
        })
    }

    /// The model, with the row's connection, version, fingerprint and time authoritative
    /// over whatever the JSON says.
    fn into_domain(self) -> Result<SemanticModel, DbError> {
        let mut model: SemanticModel = serde_json::from_str(&self.model)
            .map_err(|e| DbError::corrupt(format!("semantic model: {e}")))?;
        model.connection_id = self
            .connection_id
            .parse()
            .map_err(|_| DbError::corrupt(format!("connection id: `{}`", self.connection_id)))?;
        model.version = version_of(self.version)?;
        model.schema_fingerprint = self.schema_fingerprint;
        model.updated_at = self.created_at;
        Ok(model)
    }
}

fn version_of(v: i32) -> Result<u32, DbError> {
    u32::try_from(v).map_err(|_| DbError::corrupt(format!("semantic model version {v}")))
}

#[async_trait::async_trait]
impl SemanticModelStore for Store {
    async fn insert_semantic_model(
        &self,
        model: &SemanticModel,
        created_by: Option<&str>,
    ) -> StoreResult<()> {
        let row = SemanticModelRow::from_domain(model, created_by)?;
        with_write!(self, c => {
            diesel::insert_into(semantic_models::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    async fn latest_semantic_model(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<SemanticModel>> {
        let id = connection.to_string();
        with_conn!(self, c => {
            let row: Option<SemanticModelRow> = semantic_models::table
                .filter(semantic_models::connection_id.eq(&id))
                .order(semantic_models::version.desc())
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(row.map(SemanticModelRow::into_domain).transpose()?)
        })
    }

    async fn latest_semantic_model_stamp(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<DocumentStamp>> {
        let id = connection.to_string();
        let row: Option<(i32, i64, i64)> = with_conn_sync!(self,
            move |c| crate::sync::model_stamp(c, &id),
            c => Ok(crate::sync::q_model_stamp!(&id).get_result(c).await.optional()?))?;
        Ok(row.map(|(version, at, len)| DocumentStamp {
            key: version.to_string(),
            at,
            len,
        }))
    }

    async fn semantic_model_version(
        &self,
        connection: ConnectionId,
        version: u32,
    ) -> StoreResult<Option<SemanticModel>> {
        // A version beyond i32 was never stored.
        let Ok(version) = i32::try_from(version) else {
            return Ok(None);
        };
        let id = connection.to_string();
        with_conn!(self, c => {
            let row: Option<SemanticModelRow> = semantic_models::table
                .find((&id, version))
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(row.map(SemanticModelRow::into_domain).transpose()?)
        })
    }

    async fn list_semantic_model_versions(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Vec<SemanticModelVersion>> {
        let id = connection.to_string();
        with_conn!(self, c => {
            let rows: Vec<(i32, String, Option<String>, i64)> = semantic_models::table
                .filter(semantic_models::connection_id.eq(&id))
                .order(semantic_models::version.desc())
                .select((
                    semantic_models::version,
                    semantic_models::schema_fingerprint,
                    semantic_models::created_by,
                    semantic_models::created_at,
                ))
                .load(c)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(version, schema_fingerprint, created_by, created_at)| {
                    Ok(SemanticModelVersion {
                        version: version_of(version)?,
                        schema_fingerprint,
                        created_by,
                        created_at,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?)
        })
    }

    async fn delete_semantic_models(&self, connection: ConnectionId) -> StoreResult<u64> {
        let id = connection.to_string();
        with_write!(self, c => {
            let n = diesel::delete(
                semantic_models::table.filter(semantic_models::connection_id.eq(&id)),
            )
            .execute(c)
            .await?;
            Ok(n as u64)
        })
    }
}
