//! Running a [`ValidatedSql`] on PostgreSQL: `BEGIN READ ONLY`, `SET LOCAL
//! statement_timeout`, prepare, stream rows with `query_raw`, `ROLLBACK`.

use std::time::Instant;

use deadpool::managed::Pool;
use futures_util::TryStreamExt;
use querent_domain::Secret;
use querent_domain::query::{ExecError as RunError, QueryLimits, QueryOutcome, Row, RowSink};
use querent_sql::ValidatedSql;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::deliver::{Delivery, column_meta};
use crate::error::{chain, scrub};
use crate::exec_common::{Failure, safety_budget};
use crate::millis;
use crate::pool::{PgManager, checkout};
use crate::postgres::pg_message;
use crate::values::pg;

/// Checks out a connection, runs the statement, streams the rows into `sink`.
pub(crate) async fn run(
    pool: &Pool<PgManager>,
    validated: &ValidatedSql,
    limits: &QueryLimits,
    sink: &mut dyn RowSink,
    password: Option<&Secret<String>>,
) -> Result<QueryOutcome, RunError> {
    let mut lease = checkout(pool, limits.connect_timeout).await?;
    let timeout_ms = millis(limits.statement_timeout).max(1);
    let started = Instant::now();
    let work = execute(&lease.conn().client, validated, timeout_ms, sink);
    let result = tokio::time::timeout(safety_budget(limits), work).await;
    let execution_time_ms = millis(started.elapsed());
    match result {
        // The lease is dropped armed: the query is cancelled on the server.
        Err(_) => Err(RunError::Timeout(timeout_ms)),
        Ok(Err(Failure::SinkClosed)) => Err(RunError::Cancelled),
        Ok(Err(Failure::Driver(e))) => {
            lease.discard();
            Err(map_error(&e, timeout_ms, password))
        }
        Ok(Ok(done)) => {
            lease.release();
            Ok(done.outcome(validated, execution_time_ms))
        }
    }
}

/// The transaction itself; any error leaves the connection to be discarded.
async fn execute(
    client: &tokio_postgres::Client,
    validated: &ValidatedSql,
    timeout_ms: u64,
    sink: &mut dyn RowSink,
) -> Result<crate::exec_common::Done, Failure<tokio_postgres::Error>> {
    client
        .batch_execute(&format!(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {timeout_ms}"
        ))
        .await?;
    let statement = client.prepare(validated.sql()).await?;
    let types: Vec<_> = statement
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let columns = column_meta(
        statement
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), pg::type_name(c.type_()))),
        validated,
    );
    let mut delivery = Delivery::new(sink, validated.max_rows());
    delivery.columns(&columns).await?;
    let stream = client
        .query_raw(&statement, std::iter::empty::<&(dyn ToSql + Sync)>())
        .await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(row) = stream.try_next().await? {
        if delivery.full() {
            delivery.overflow();
            break;
        }
        let values: Row = types
            .iter()
            .enumerate()
            .map(|(i, ty)| match row.try_get::<_, Option<pg::Raw<'_>>>(i) {
                Ok(Some(raw)) => pg::value(ty, raw.0),
                _ => serde_json::Value::Null,
            })
            .collect();
        delivery.push(values).await?;
    }
    let (row_count, truncated) = delivery.finish().await?;
    client.batch_execute("ROLLBACK").await?;
    Ok(crate::exec_common::Done {
        columns,
        row_count,
        truncated,
    })
}

/// A driver error as the engine reports it: a statement timeout (SQLSTATE 57014) is
/// [`RunError::Timeout`], other server errors [`RunError::Query`] with the server's message,
/// a broken connection [`RunError::Connection`].
fn map_error(
    e: &tokio_postgres::Error,
    timeout_ms: u64,
    password: Option<&Secret<String>>,
) -> RunError {
    match e.as_db_error() {
        Some(db) if db.code() == &SqlState::QUERY_CANCELED => RunError::Timeout(timeout_ms),
        Some(_) => RunError::Query(scrub(pg_message(e), password)),
        None => RunError::Connection(scrub(
            format!("lost the connection to the target database: {}", chain(e)),
            password,
        )),
    }
}
