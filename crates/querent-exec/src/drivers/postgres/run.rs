//! Running a [`ValidatedSql`] on PostgreSQL: `BEGIN READ ONLY`, `SET LOCAL
//! statement_timeout`, prepare, stream rows with `query_raw`, `ROLLBACK`.

use std::time::Instant;

use deadpool::managed::Pool;
use futures_util::TryStreamExt;
use querent_domain::Secret;
use querent_domain::query::{
    DbError, DbErrorCode, ExecError as RunError, QueryLimits, QueryOutcome, Row, RowSink,
};
use querent_sql::ValidatedSql;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::pool::PgManager;
use super::values as pg;
use crate::deliver::{Delivery, column_meta};
use crate::error::{chain, scrub};
use crate::exec_common::{AfterQuery, Done, Failure, safety_budget};
use crate::millis;
use crate::pool::checkout;

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
    let work = execute(&lease.conn().client, validated, limits, timeout_ms, sink);
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
            match done.after {
                AfterQuery::Reuse => lease.release(),
                AfterQuery::Close => lease.discard(),
                // Dropped armed: the query is cancelled on the server.
                AfterQuery::Cancel => drop(lease),
            }
            Ok(done.outcome(validated, execution_time_ms))
        }
    }
}

/// The transaction itself; any error leaves the connection to be discarded.
async fn execute(
    client: &tokio_postgres::Client,
    validated: &ValidatedSql,
    limits: &QueryLimits,
    timeout_ms: u64,
    sink: &mut dyn RowSink,
) -> Result<Done, Failure<tokio_postgres::Error>> {
    client
        .batch_execute(&format!(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {timeout_ms}"
        ))
        .await?;
    let described = client.prepare(validated.executable()).await?;
    let columns = column_meta(
        described
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), pg::type_name(c.type_()))),
        validated,
    );
    // The client library holds a whole row before we see it: long values are cut on the
    // server (to one character more than the cap, so the cut is still seen and reported).
    let cuts: Vec<(String, querent_sql::ValueCut)> = described
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), pg::cut(c.type_())))
        .collect();
    let max_chars = limits.max_value_bytes.saturating_add(1);
    let statement = match validated.with_value_caps(&cuts, max_chars) {
        Some(capped) => client.prepare(&capped).await?,
        None => described,
    };
    let types: Vec<_> = statement
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let mut delivery = Delivery::new(sink, limits, validated.max_rows());
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
        let mut raw_bytes = 0;
        let values: Row = types
            .iter()
            .enumerate()
            .map(|(i, ty)| match row.try_get::<_, Option<pg::Raw<'_>>>(i) {
                Ok(Some(raw)) => {
                    raw_bytes += raw.0.len();
                    pg::value(ty, raw.0, delivery.values())
                }
                _ => serde_json::Value::Null,
            })
            .collect();
        delivery.raw_row(raw_bytes);
        if !delivery.push(values).await? {
            break;
        }
    }
    let delivered = delivery.finish().await?;
    let done = Done::new(columns, delivered);
    if done.after != AfterQuery::Cancel {
        client.batch_execute("ROLLBACK").await?;
    }
    Ok(done)
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
        Some(db) => RunError::Query(DbError {
            code: DbErrorCode::Postgres {
                sqlstate: db.code().code().to_owned(),
            },
            message: scrub(db.message().to_owned(), password),
            detail: db.detail().map(|d| scrub(d.to_owned(), password)),
            hint: db.hint().map(|h| scrub(h.to_owned(), password)),
        }),
        None => RunError::Connection(scrub(
            format!("lost the connection to the target database: {}", chain(e)),
            password,
        )),
    }
}

impl From<tokio_postgres::Error> for Failure<tokio_postgres::Error> {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Driver(e)
    }
}
