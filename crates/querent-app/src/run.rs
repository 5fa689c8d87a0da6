//! Running SQL that is already stored (saved queries, dashboard widgets, exports, workflow
//! steps): one path through the guard and the connection's limits, so none of them can run
//! anything the guard has not just accepted under the *current* privacy policy — a query
//! saved before a column was masked comes back masked.

use querent_domain::HasErrorCode as _;
use querent_domain::chat::ResultSet;
use querent_domain::query::{CollectRows, QueryOutcome, QueryRequest, RowSink};
use querent_domain::{Connection, ExecutionMode};

use crate::{Actor, App, ServiceError, ServiceResult};

impl App {
    /// The row cap for a run on `conn`: `requested` (the connection's cap when absent)
    /// lowered to the connection's and the server's caps.
    pub(crate) fn row_cap(&self, conn: &Connection, requested: Option<u32>) -> ServiceResult<u64> {
        let requested = match requested {
            Some(0) => return Err(ServiceError::validation("max_rows: must be at least 1")),
            Some(n) => n,
            None => conn.limits.max_rows,
        };
        Ok(u64::from(
            requested
                .min(conn.limits.max_rows)
                .min(self.config().server_max_rows),
        ))
    }

    /// Validates `sql` with the guard against `conn`'s schema and policy and runs it under
    /// the row cap `max_rows` and the connection's limits, streaming into `sink`. The caller
    /// has checked the actor's role; `generate_only` connections are refused here.
    pub(crate) async fn run_stored_sql(
        &self,
        actor: &Actor,
        conn: &Connection,
        sql: &str,
        max_rows: u64,
        sink: &mut dyn RowSink,
    ) -> ServiceResult<QueryOutcome> {
        if conn.execution_mode == ExecutionMode::GenerateOnly {
            return Err(ServiceError::forbidden(
                "this connection is generate_only: its queries are never executed",
            ));
        }
        let schema = self.schema_for(actor, conn).await?;
        let password = self.connection_password(conn)?;
        let target = self.usable_target(conn).await?;
        let request = QueryRequest {
            connection_id: conn.id,
            target: &target,
            password: password.as_ref(),
            schema: &schema,
            policy: &conn.privacy,
            limits: self.limits_of(conn, max_rows).await,
            sql,
        };
        self.engine()
            .run(request, sink)
            .await
            .map_err(|e| ServiceError::new(e.code(), e.to_string()))
    }

    /// [`App::run_stored_sql`], keeping the rows (bounded by the row cap and the byte caps
    /// the engine enforces).
    pub(crate) async fn run_stored_sql_collect(
        &self,
        actor: &Actor,
        conn: &Connection,
        sql: &str,
        max_rows: u64,
    ) -> ServiceResult<ResultSet> {
        let mut sink = CollectRows::default();
        let outcome = self
            .run_stored_sql(actor, conn, sql, max_rows, &mut sink)
            .await?;
        Ok(ResultSet::from_outcome(outcome, sink.rows, max_rows))
    }
}
