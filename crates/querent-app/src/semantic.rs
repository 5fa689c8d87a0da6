//! The semantic model of a connection (design §8): drafted from the schema, edited by
//! people, versioned (every saved version is kept; the highest is in force), and compared
//! with the live schema (drift).
//!
//! Access is that of connections: anyone who may read the connection reads its model,
//! drafts and drift; editors and above save and delete. Saving checks every table and
//! column the model names against the connection's latest schema snapshot and privacy
//! policy (a problem is a 422 naming the reference and where it is in the model), and has
//! the guard — through the [`QueryEngine`] port, so
//! this crate never parses SQL — accept each join as `SELECT 1 FROM a JOIN b ON …` and
//! each metric as `SELECT <expression> AS m FROM <table>`. Saving is optimistic: a body
//! naming the version it was based on fails with 409 when someone saved since, and two
//! saves racing for the same new version cannot both win (the store's primary key).
//! Drafting, checking and diffing are CPU work over possibly large schemas and run on the
//! blocking pool.

use std::sync::Arc;

use querent_domain::ports::StoreError;
use querent_domain::query::QueryEngine;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::{
    BrokenReference, DriftReport, JoinPath, Metric, SemanticModel, SemanticModelVersion,
    SemanticTable,
};
use querent_domain::{Connection, ConnectionId, ErrorCode, TeamRole, now_millis};
use serde::Deserialize;

use crate::{Actor, App, Paginated, ServiceError, ServiceResult};

/// Problems listed in one validation message at most.
const MAX_LISTED_PROBLEMS: usize = 10;

/// `GET /connections/{id}/semantic-model` query parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SemanticModelQuery {
    /// A saved version to read instead of the latest.
    #[serde(default)]
    pub version: Option<u32>,
}

/// `POST /connections/{id}/semantic-model/generate` query parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct GenerateQuery {
    /// Save the draft as the next version (editor or above); by default it is only
    /// returned.
    #[serde(default)]
    pub save: bool,
    /// The team provider that describes the tables and columns (descriptions and synonyms
    /// on top of the rule-based draft). Default: the team's default provider when it is a
    /// language model; `offline` for rules only.
    #[serde(default)]
    pub provider: Option<String>,
}

/// `PUT /connections/{id}/semantic-model` body: a model as `GET` returns it (the read-only
/// fields may be sent back and are ignored, except that `connection_id` must be this
/// connection's).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SemanticModelRequest {
    /// The version this edit is based on (the `version` of the model you read, or of a
    /// draft): when given and no longer the latest, the save fails with 409 `conflict`
    /// (someone saved in between). Omit it to save on top of whatever is latest.
    #[serde(default)]
    pub version: Option<u32>,
    /// Read-only; when sent, must be this connection's id.
    #[serde(default)]
    pub connection_id: Option<ConnectionId>,
    /// Read-only; ignored (the server stamps the fingerprint of the snapshot it checked
    /// against).
    #[serde(default)]
    pub schema_fingerprint: Option<String>,
    /// Read-only; ignored.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// What the database is about, in plain words.
    #[serde(default)]
    pub description: Option<String>,
    /// Tables the model describes.
    #[serde(default)]
    pub tables: Vec<SemanticTable>,
    /// How tables join.
    #[serde(default)]
    pub joins: Vec<JoinPath>,
    /// Named business measures.
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

fn no_model() -> ServiceError {
    ServiceError::new(
        ErrorCode::NotFound,
        "this connection has no semantic model yet: draft one with \
         POST /api/v1/connections/{id}/semantic-model/generate or save one with PUT",
    )
}

fn stale(current: u32, based_on: u32) -> ServiceError {
    ServiceError::conflict(format!(
        "the semantic model is at version {current}, not {based_on}: someone saved a newer \
         version; read it again and reapply your edit"
    ))
}

/// Runs CPU work over a model or schema on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ServiceResult<T> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ServiceError::internal)?
}

impl App {
    /// The latest saved semantic model of a connection, or version `version`; 404 when
    /// there is none.
    pub async fn get_semantic_model(
        &self,
        actor: &Actor,
        id: ConnectionId,
        version: Option<u32>,
    ) -> ServiceResult<SemanticModel> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        let mut model = match version {
            Some(v) => self
                .store()
                .semantic_model_version(id, v)
                .await?
                .ok_or_else(|| {
                    ServiceError::new(
                        ErrorCode::NotFound,
                        format!("version {v} of this connection's semantic model not found"),
                    )
                }),
            None => self
                .store()
                .latest_semantic_model(id)
                .await?
                .ok_or_else(no_model),
        }?;
        // Value lists of columns the current policy protects are not served.
        model.strip_protected_values(&conn.privacy);
        Ok(model)
    }

    /// Every saved version of a connection's model (number, fingerprint, author, time),
    /// newest first, in one page.
    pub async fn semantic_model_versions(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<Paginated<SemanticModelVersion>> {
        self.load_connection(actor, id, TeamRole::Viewer).await?;
        Ok(Paginated {
            items: self.store().list_semantic_model_versions(id).await?,
            next_cursor: None,
        })
    }

    /// Validates and saves an edited model as the next version (editor or above).
    pub async fn put_semantic_model(
        &self,
        actor: &Actor,
        id: ConnectionId,
        req: SemanticModelRequest,
    ) -> ServiceResult<SemanticModel> {
        let conn = self
            .load_connection_to_manage(actor, id, TeamRole::Editor)
            .await?;
        if let Some(other) = req.connection_id.filter(|c| *c != id) {
            return Err(ServiceError::validation(format!(
                "connection_id: the body describes connection {other}, not {id}"
            )));
        }
        let snapshot = self.schema_for(actor, &conn).await?;
        let mut model = SemanticModel {
            connection_id: id,
            version: 0,
            schema_fingerprint: snapshot.fingerprint.clone(),
            description: req
                .description
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
            tables: req.tables,
            joins: req.joins,
            metrics: req.metrics,
            updated_at: now_millis(),
        };
        model = self
            .checked_model(conn.clone(), model, Arc::clone(&snapshot))
            .await?;
        let current = self.current_version(id).await?;
        if let Some(based_on) = req.version.filter(|v| *v != current) {
            return Err(stale(current, based_on));
        }
        self.save_model(actor, &conn, model, current, "semantic_model.save")
            .await
    }

    /// Deletes every version of a connection's model (editor or above); 404 when it has
    /// none.
    pub async fn delete_semantic_model(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<()> {
        self.load_connection_to_manage(actor, id, TeamRole::Editor)
            .await?;
        let n = self.store().delete_semantic_models(id).await?;
        if n == 0 {
            return Err(no_model());
        }
        self.invalidate_for_model(id).await;
        self.audit_by(
            actor,
            "semantic_model.delete",
            format!("connection:{id}"),
            Some(format!("versions={n}")),
        )
        .await;
        Ok(())
    }

    /// Drafts a model from the connection's latest schema snapshot (read from the database
    /// when there is none yet) with generic rules (see `querent_semantic::draft`); no
    /// provider is asked. Returned without saving unless `save` (editor or above), in which
    /// case it becomes the next version. An unsaved draft carries the latest saved version
    /// number (0 when there is none), so sending it back with PUT saves it on top of that
    /// version.
    pub async fn generate_semantic_model(
        &self,
        actor: &Actor,
        id: ConnectionId,
        query: &GenerateQuery,
    ) -> ServiceResult<SemanticModel> {
        let save = query.save;
        let min = if save {
            TeamRole::Editor
        } else {
            TeamRole::Viewer
        };
        let conn = self.load_connection(actor, id, min).await?;
        let snapshot = self.schema_for(actor, &conn).await?;
        let policy = conn.privacy.clone();
        let mut model = blocking(move || Ok(querent_semantic::draft(&snapshot, &policy))).await?;
        model.connection_id = id;
        model.description = conn.description.clone();
        self.describe_with_provider(actor, &conn, &mut model, query.provider.as_deref())
            .await?;
        let current = self.current_version(id).await?;
        if !save {
            model.version = current;
            return Ok(model);
        }
        model.updated_at = now_millis();
        self.save_model(actor, &conn, model, current, "semantic_model.generate")
            .await
    }

    /// Asks a language model to describe a draft's tables and columns (only what the draft
    /// holds: allowed tables and columns, unmasked samples), a few tables per request. Only
    /// for editors (each request costs tokens). A provider named in the request that cannot
    /// be used or fails is an error; the team default failing leaves the rule-based draft.
    async fn describe_with_provider(
        &self,
        actor: &Actor,
        conn: &querent_domain::Connection,
        model: &mut SemanticModel,
        provider: Option<&str>,
    ) -> ServiceResult<()> {
        let explicit = provider.is_some_and(|p| !p.trim().is_empty());
        let editor = self
            .team_role(actor, conn.team_id)
            .await?
            .is_some_and(|r| r.at_least(TeamRole::Editor));
        if !editor {
            if explicit && !provider.is_some_and(|p| p.eq_ignore_ascii_case("offline")) {
                return Err(ServiceError::forbidden(
                    "describing the schema with a provider needs the editor role",
                ));
            }
            return Ok(());
        }
        let resolved = match self.resolve_provider(conn.team_id, provider).await {
            Ok(r) => r,
            Err(e) if !explicit => {
                tracing::warn!(connection = %conn.id, error = %e.detail, "rule-based draft only: the default provider cannot be used");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if resolved.config.is_none() {
            return Ok(());
        }
        let mut described = 0;
        for (system, user) in querent_semantic::describe_requests(model) {
            let outcome = match resolved.provider.complete_text(&system, &user).await {
                Ok(None) => return Ok(()),
                Ok(Some(reply)) => querent_semantic::apply_descriptions(model, &reply.text),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(n) => described += n,
                Err(why) if explicit => {
                    return Err(ServiceError::new(
                        ErrorCode::ProviderError,
                        format!("the provider could not describe the schema: {why}"),
                    ));
                }
                Err(why) => {
                    tracing::warn!(connection = %conn.id, provider = resolved.provider.name(), "part of the draft stays rule-based: {why}");
                }
            }
        }
        tracing::info!(connection = %conn.id, provider = resolved.provider.name(), described, "semantic model draft described by the provider");
        Ok(())
    }

    /// Reads the live schema again (storing it as the connection's snapshot, like a
    /// refresh, hence editor or above) and reports how it differs from the latest saved model: dropped, renamed
    /// and retyped tables and columns, new ones, references that no longer resolve, and
    /// metrics the guard no longer accepts.
    pub async fn semantic_model_drift(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<DriftReport> {
        let conn = self.load_connection(actor, id, TeamRole::Editor).await?;
        let model = self
            .store()
            .latest_semantic_model(id)
            .await?
            .ok_or_else(no_model)?;
        let live = self.read_and_store_schema(actor, id).await?;
        let engine = Arc::clone(&self.inner.ports.engine);
        blocking(move || {
            let mut report = querent_semantic::drift_with_policy(&model, &live, &conn.privacy);
            for (k, metric) in model.metrics.iter().enumerate() {
                if let Err(problem) = check_metric(engine.as_ref(), &conn, &model, k, metric, &live)
                {
                    report.broken_references.push(BrokenReference {
                        location: format!("metrics[{k}].expression"),
                        reference: metric.name.clone(),
                        problem,
                    });
                    report.drifted = true;
                }
            }
            Ok(report)
        })
        .await
    }

    /// The semantic model in force for a connection (its latest version), for the chat
    /// pipeline; no access check. Its stamp is read from the store on every call, so every
    /// server instance sees a save at once.
    pub async fn semantic_model_for(
        &self,
        connection: ConnectionId,
    ) -> ServiceResult<Option<Arc<SemanticModel>>> {
        // The value lists of columns the current policy protects reach no prompt, linking
        // index or translator.
        let policy = self.store().get_connection(connection).await?.privacy;
        self.semantic_model_under(connection, &policy).await
    }

    /// [`App::semantic_model_for`] for a caller that has just read the connection: its
    /// `policy` decides which value lists are stripped (no second read of the connection).
    pub(crate) async fn semantic_model_under(
        &self,
        connection: ConnectionId,
        policy: &querent_domain::PrivacyPolicy,
    ) -> ServiceResult<Option<Arc<SemanticModel>>> {
        // This process's copy while the latest stored version is the one it was made from
        // (stored_copies.rs).
        let Some(stamp) = self.store().latest_semantic_model_stamp(connection).await? else {
            return Ok(None);
        };
        if let Some(m) = self.inner.copies.model(connection, &stamp, policy) {
            return Ok(Some(m));
        }
        let Some(mut model) = self.store().latest_semantic_model(connection).await? else {
            return Ok(None);
        };
        model.strip_protected_values(policy);
        let model = Arc::new(model);
        self.inner
            .copies
            .keep_model(connection, stamp, policy, &model);
        Ok(Some(model))
    }

    /// Cached answers were found under the previous model version (their synonyms, value
    /// mappings and metrics): drop them.
    async fn invalidate_for_model(&self, id: ConnectionId) {
        if let Err(e) = self.cache_invalidate(id, None).await {
            tracing::warn!(error = %e.detail, connection = %id, "could not invalidate the cache after a model change");
        }
    }

    /// The latest saved version number (0 when there is none).
    async fn current_version(&self, id: ConnectionId) -> ServiceResult<u32> {
        Ok(self
            .store()
            .latest_semantic_model(id)
            .await?
            .map_or(0, |m| m.version))
    }

    /// Stores `model` as version `current + 1` and audits `action`.
    async fn save_model(
        &self,
        actor: &Actor,
        conn: &Connection,
        mut model: SemanticModel,
        current: u32,
        action: &str,
    ) -> ServiceResult<SemanticModel> {
        model.version = current
            .checked_add(1)
            .ok_or_else(|| ServiceError::conflict("the semantic model has too many versions"))?;
        match self
            .store()
            .insert_semantic_model(&model, Some(&actor.audit_name()))
            .await
        {
            Ok(()) => {}
            // Someone saved this version first.
            Err(StoreError::Conflict(_)) => return Err(stale(current + 1, current)),
            // The connection was deleted meanwhile.
            Err(StoreError::MissingReference(_)) => {
                return Err(ServiceError::not_found("connection"));
            }
            Err(e) => return Err(e.into()),
        }
        self.invalidate_for_model(conn.id).await;
        self.audit_by(
            actor,
            action,
            format!("connection:{}", conn.id),
            Some(format!("version={}", model.version)),
        )
        .await;
        Ok(model)
    }

    /// Checks `model` against `snapshot` and the connection's policy (references, shape,
    /// joins and metrics through the guard) and records each described column's live type;
    /// a 422 naming every problem (up to ten) otherwise.
    async fn checked_model(
        &self,
        conn: Connection,
        mut model: SemanticModel,
        snapshot: Arc<SchemaSnapshot>,
    ) -> ServiceResult<SemanticModel> {
        let engine = Arc::clone(&self.inner.ports.engine);
        blocking(move || {
            let mut problems: Vec<String> =
                querent_semantic::check_model(&model, &snapshot, &conn.privacy)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
            if problems.is_empty() {
                problems.extend(guard_problems(engine.as_ref(), &conn, &model, &snapshot));
            }
            if !problems.is_empty() {
                return Err(ServiceError::validation(summarise(&problems)));
            }
            record_types(&mut model, &snapshot);
            Ok(model)
        })
        .await
    }
}

/// One problem as is; several as a count and a list.
fn summarise(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => {
            let listed = many
                .iter()
                .take(MAX_LISTED_PROBLEMS)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            let more = many.len().saturating_sub(MAX_LISTED_PROBLEMS);
            if more > 0 {
                format!("{} problems: {listed}; and {more} more", many.len())
            } else {
                format!("{} problems: {listed}", many.len())
            }
        }
    }
}

/// What the guard refuses among the model's joins and metrics.
fn guard_problems(
    engine: &dyn QueryEngine,
    conn: &Connection,
    model: &SemanticModel,
    snapshot: &SchemaSnapshot,
) -> Vec<String> {
    let dialect = conn.target.dialect;
    let mut problems = Vec::new();
    for (k, join) in model.joins.iter().enumerate() {
        let sql = querent_semantic::join_check_sql(join, dialect);
        if let Err(r) = engine.check(dialect, &sql.sql, snapshot, &conn.privacy, 1) {
            problems.push(format!(
                "joins[{k}]: the guard refuses the join {} → {}: {}",
                join.from_table, join.to_table, r.message
            ));
        }
    }
    for (k, metric) in model.metrics.iter().enumerate() {
        if let Err(problem) = check_metric(engine, conn, model, k, metric, snapshot) {
            problems.push(format!("metrics[{k}].expression: {problem}"));
        }
    }
    problems
}

/// Has the guard check a metric's expression over its table (and the tables the model
/// joins to it); the problem names the metric.
fn check_metric(
    engine: &dyn QueryEngine,
    conn: &Connection,
    model: &SemanticModel,
    k: usize,
    metric: &Metric,
    snapshot: &SchemaSnapshot,
) -> Result<(), String> {
    let dialect = conn.target.dialect;
    let sql = querent_semantic::metric_check_sql(model, metric, dialect);
    let checked = engine
        .check(dialect, &sql.sql, snapshot, &conn.privacy, 1)
        .map_err(|r| {
            format!(
                "metric \"{}\" (metrics[{k}]) is not a valid read-only expression over {}: {}",
                metric.name, metric.table, r.message
            )
        })?;
    let allowed: Vec<String> = sql.tables.iter().map(|t| bare_lower(t)).collect();
    match checked
        .tables
        .iter()
        .find(|t| !allowed.contains(&bare_lower(t)))
    {
        Some(extra) => Err(format!(
            "metric \"{}\" reads table \"{extra}\", which is neither its table ({}) nor joined \
             to it by the model's join paths",
            metric.name, metric.table
        )),
        None => Ok(()),
    }
}

/// The last dot-separated part of a table name, lowercased.
fn bare_lower(table: &str) -> String {
    table.rsplit('.').next().unwrap_or(table).to_lowercase()
}

/// Sets each described column's `data_type` to the snapshot's, so a later drift report
/// can tell type changes and pair renames.
fn record_types(model: &mut SemanticModel, snapshot: &SchemaSnapshot) {
    for t in &mut model.tables {
        let live = snapshot
            .tables
            .iter()
            .find(|l| l.name == t.table)
            .or_else(|| {
                t.table
                    .split_once('.')
                    .and_then(|(s, n)| snapshot.table(Some(s), n))
            });
        let Some(live) = live else { continue };
        for c in &mut t.columns {
            c.data_type = live.column(&c.column).map(|lc| lc.data_type.clone());
        }
    }
}
