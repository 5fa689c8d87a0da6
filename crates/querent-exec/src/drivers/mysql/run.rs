//! Running a [`ValidatedSql`] on MySQL or MariaDB: session statement timeout, `START
//! TRANSACTION READ ONLY`, stream rows with `query_iter`, `ROLLBACK`.

use std::time::Instant;

use deadpool::managed::Pool;
use mysql_async::prelude::Queryable;
use querent_domain::Secret;
use querent_domain::query::{
    DbError, DbErrorCode, ExecError as RunError, QueryLimits, QueryOutcome, Row, RowSink,
};
use querent_sql::ValidatedSql;

use super::pool::{MyConn, MyManager};
use super::values;
use crate::deliver::{Delivery, column_meta};
use crate::error::{chain, scrub};
use crate::exec_common::{AfterQuery, Done, Failure, safety_budget};
use crate::millis;
use crate::pool::checkout;

/// MariaDB's `ER_STATEMENT_TIMEOUT` (max_statement_time exceeded).
const MARIADB_STATEMENT_TIMEOUT: u16 = 1969;
/// MySQL's `ER_QUERY_TIMEOUT` (MAX_EXECUTION_TIME exceeded).
const MYSQL_QUERY_TIMEOUT: u16 = 3024;

/// Checks out a connection, runs the statement, streams the rows into `sink`.
pub(crate) async fn run(
    pool: &Pool<MyManager>,
    validated: &ValidatedSql,
    limits: &QueryLimits,
    sink: &mut dyn RowSink,
    password: Option<&Secret<String>>,
) -> Result<QueryOutcome, RunError> {
    let mut lease = checkout(pool, limits.connect_timeout).await?;
    let timeout_ms = millis(limits.statement_timeout).max(1);
    let started = Instant::now();
    let work = execute(lease.conn(), validated, limits, timeout_ms, sink);
    let result = tokio::time::timeout(safety_budget(limits), work).await;
    let execution_time_ms = millis(started.elapsed());
    match result {
        // The lease is dropped armed: the query is killed on the server.
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
                // Dropped armed: the query is killed on the server.
                AfterQuery::Cancel => drop(lease),
            }
            Ok(done.outcome(validated, execution_time_ms))
        }
    }
}

/// The statement that sets the session's statement timeout.
fn timeout_statement(mariadb: bool, timeout_ms: u64) -> String {
    if mariadb {
        format!(
            "SET SESSION max_statement_time = {}.{:03}",
            timeout_ms / 1000,
            timeout_ms % 1000
        )
    } else {
        format!("SET SESSION MAX_EXECUTION_TIME = {timeout_ms}")
    }
}

/// The transaction itself; any error leaves the connection to be discarded.
async fn execute(
    my: &mut MyConn,
    validated: &ValidatedSql,
    limits: &QueryLimits,
    timeout_ms: u64,
    sink: &mut dyn RowSink,
) -> Result<Done, Failure<mysql_async::Error>> {
    let conn = &mut my.conn;
    conn.query_drop(timeout_statement(my.mariadb, timeout_ms))
        .await?;
    conn.query_drop("START TRANSACTION READ ONLY").await?;
    let mut result = conn.query_iter(validated.executable()).await?;
    let cols = result.columns().unwrap_or_else(|| Vec::new().into());
    let columns = column_meta(
        cols.iter()
            .map(|c| (c.name_str().into_owned(), values::type_name(c))),
        validated,
    );
    let mut delivery = Delivery::new(sink, limits, validated.max_rows());
    delivery.columns(&columns).await?;
    while let Some(row) = result.next().await? {
        if delivery.full() {
            delivery.overflow();
            break;
        }
        let raw = row.unwrap();
        delivery.raw_row(raw.iter().map(raw_len).sum());
        let values: Row = raw
            .into_iter()
            .zip(cols.iter())
            .map(|(v, c)| values::value(c, v, delivery.values()))
            .collect();
        if !delivery.push(values).await? {
            break;
        }
    }
    let delivered = delivery.finish().await?;
    let done = Done::new(columns, delivered);
    if done.after == AfterQuery::Cancel {
        // The rest is not read: the lease kills the query and closes the connection.
        return Ok(done);
    }
    // Reads whatever is left (at most nothing: the guard's LIMIT stops at cap + 1).
    result.drop_result().await?;
    conn.query_drop("ROLLBACK").await?;
    Ok(done)
}

/// The bytes a value took on the wire (text protocol: bytes or NULL).
fn raw_len(v: &mysql_async::Value) -> usize {
    match v {
        mysql_async::Value::Bytes(b) => b.len(),
        _ => 8,
    }
}

/// A driver error as the engine reports it: statement timeouts (MariaDB 1969, MySQL 3024)
/// are [`RunError::Timeout`], other server errors [`RunError::Query`] with the server's
/// message, driver and I/O failures [`RunError::Connection`].
fn map_error(
    e: &mysql_async::Error,
    timeout_ms: u64,
    password: Option<&Secret<String>>,
) -> RunError {
    match e {
        mysql_async::Error::Server(s)
            if s.code == MARIADB_STATEMENT_TIMEOUT || s.code == MYSQL_QUERY_TIMEOUT =>
        {
            RunError::Timeout(timeout_ms)
        }
        mysql_async::Error::Server(s) => RunError::Query(DbError {
            code: DbErrorCode::Mysql {
                number: s.code,
                sqlstate: s.state.clone(),
            },
            message: scrub(s.message.clone(), password),
            detail: None,
            hint: None,
        }),
        other => RunError::Connection(scrub(
            format!(
                "lost the connection to the target database: {}",
                chain(other)
            ),
            password,
        )),
    }
}

impl From<mysql_async::Error> for Failure<mysql_async::Error> {
    fn from(e: mysql_async::Error) -> Self {
        Failure::Driver(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_statements() {
        assert_eq!(
            timeout_statement(true, 1500),
            "SET SESSION max_statement_time = 1.500"
        );
        assert_eq!(
            timeout_statement(true, 20),
            "SET SESSION max_statement_time = 0.020"
        );
        assert_eq!(
            timeout_statement(false, 1500),
            "SET SESSION MAX_EXECUTION_TIME = 1500"
        );
    }
}
