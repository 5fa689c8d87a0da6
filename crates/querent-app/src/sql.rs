//! SQL for people who write it (design §3): check or run a hand-written query with the same
//! guard, limits and privacy policy as generated ones. Editor role or above.

use querent_domain::HasErrorCode as _;
use querent_domain::chat::ResultSet;
use querent_domain::query::{CollectRows, QueryRequest};
use querent_domain::{ConnectionId, ExecutionMode, TeamRole};
use serde::{Deserialize, Serialize};

use crate::chat::ResultView;
use crate::{Actor, App, ServiceError, ServiceResult};

/// `POST /sql/validate` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ValidateSqlRequest {
    /// The connection whose schema and policy apply.
    pub connection_id: ConnectionId,
    /// The statement.
    pub sql: String,
}

/// The guard's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SqlValidation {
    /// Whether the statement would be accepted.
    pub valid: bool,
    /// When refused: `guard_rejected` or `policy_violation`.
    pub code: Option<String>,
    /// When refused: why.
    pub detail: Option<String>,
    /// "Did you mean" candidates for unknown names.
    pub suggestions: Vec<String>,
    /// When accepted: the statement as it would run (row cap, `*` expanded, masks).
    pub normalized_sql: Option<String>,
    /// When accepted: the tables it reads.
    pub tables: Vec<String>,
}

/// `POST /sql/run` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunSqlRequest {
    /// The connection to run on.
    pub connection_id: ConnectionId,
    /// The statement.
    pub sql: String,
    /// Rows to return at most (bounded by the connection's and the server's caps).
    #[serde(default)]
    pub max_rows: Option<u32>,
}

impl App {
    /// Checks a statement without running it.
    pub async fn validate_sql(
        &self,
        actor: &Actor,
        req: &ValidateSqlRequest,
    ) -> ServiceResult<SqlValidation> {
        let conn = self
            .load_connection(actor, req.connection_id, TeamRole::Editor)
            .await?;
        let schema = self.schema_for(actor, &conn).await?;
        let max_rows = u64::from(conn.limits.max_rows.min(self.config().server_max_rows));
        Ok(
            match self.engine().check(
                conn.target.dialect,
                &req.sql,
                &schema,
                &conn.privacy,
                max_rows,
            ) {
                Ok(checked) => SqlValidation {
                    valid: true,
                    code: None,
                    detail: None,
                    suggestions: Vec::new(),
                    normalized_sql: Some(checked.sql),
                    tables: checked.tables,
                },
                Err(r) => SqlValidation {
                    valid: false,
                    code: Some(r.code.as_str().to_owned()),
                    detail: Some(r.message),
                    suggestions: r.suggestions,
                    normalized_sql: None,
                    tables: Vec::new(),
                },
            },
        )
    }

    /// Validates and runs a statement; refused on generate_only connections.
    pub async fn run_sql(&self, actor: &Actor, req: &RunSqlRequest) -> ServiceResult<ResultView> {
        let conn = self
            .load_connection(actor, req.connection_id, TeamRole::Editor)
            .await?;
        if conn.execution_mode == ExecutionMode::GenerateOnly {
            return Err(ServiceError::forbidden(
                "this connection is generate_only: its queries are never executed",
            ));
        }
        let requested = match req.max_rows {
            Some(0) => return Err(ServiceError::validation("max_rows: must be at least 1")),
            Some(n) => n,
            None => conn.limits.max_rows,
        };
        let max_rows = u64::from(
            requested
                .min(conn.limits.max_rows)
                .min(self.config().server_max_rows),
        );
        let schema = self.schema_for(actor, &conn).await?;
        let password = self.connection_password(&conn)?;
        let target = self.usable_target(&conn).await?;
        let mut sink = CollectRows::default();
        let request = QueryRequest {
            connection_id: conn.id,
            target: &target,
            password: password.as_ref(),
            schema: &schema,
            policy: &conn.privacy,
            limits: self.limits_of(&conn, max_rows).await,
            sql: &req.sql,
        };
        let outcome = self.engine().run(request, &mut sink).await;
        self.audit_by(
            actor,
            "sql.run",
            format!("connection:{}", conn.id),
            Some(format!("ok={}", outcome.is_ok())),
        )
        .await;
        let outcome = outcome.map_err(|e| ServiceError::new(e.code(), e.to_string()))?;
        // The engine delivered within the byte caps: the rows held here are bounded.
        Ok(ResultSet::from_outcome(outcome, sink.rows, max_rows).into())
    }
}
