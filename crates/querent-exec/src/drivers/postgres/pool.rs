//! Pooled PostgreSQL connections: the deadpool manager, the session every connection runs
//! with, and cancellation of an abandoned query (a cancel request on the side).

use deadpool::managed::{self, Metrics, Pool, RecycleError};
use querent_domain::query::ExecError as RunError;
use querent_domain::{ConnectionTarget, Secret};
use tokio_postgres::NoTls;

use crate::error::ExecError;
use crate::pool::{
    CANCEL_BUDGET, CHECK_AFTER_IDLE, DRIVER_CONNECT_CAP, Kill, bounded, spawn_detached,
};
use crate::tls::PgTls;

/// Creates tokio-postgres connections to one target.
pub(crate) struct PgManager {
    target: ConnectionTarget,
    password: Option<Secret<String>>,
    application_name: String,
    /// The TLS connector, made once per pool (`None` for `ssl_mode=disable`).
    tls: Option<PgTls>,
}

/// A pooled PostgreSQL connection.
pub(crate) struct PgConn {
    /// The client; its socket is driven by a spawned task that ends when it is dropped.
    pub client: tokio_postgres::Client,
    /// The connector a cancel request goes through (the server may accept TLS only).
    tls: Option<PgTls>,
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = ExecError;

    async fn create(&self) -> Result<PgConn, ExecError> {
        let (client, _driver) = super::connect_with(
            &self.target,
            self.password.as_ref(),
            DRIVER_CONNECT_CAP,
            &self.application_name,
            self.tls.as_ref(),
        )
        .await?;
        pg_session(&client).await?;
        Ok(PgConn {
            client,
            tls: self.tls.clone(),
        })
    }

    async fn recycle(
        &self,
        conn: &mut PgConn,
        metrics: &Metrics,
    ) -> managed::RecycleResult<ExecError> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        if metrics.last_used() > CHECK_AFTER_IDLE {
            conn.client
                .check_connection()
                .await
                .map_err(|e| RecycleError::message(format!("connection check failed: {e}")))?;
        }
        Ok(())
    }
}

impl Kill for PgConn {
    fn kill(self) {
        let token = self.client.cancel_token();
        let tls = self.tls.clone();
        spawn_detached(async move {
            let cancel = async {
                match tls {
                    Some(tls) => token.cancel_query(tls).await,
                    None => token.cancel_query(NoTls).await,
                }
            };
            match tokio::time::timeout(CANCEL_BUDGET, cancel).await {
                Ok(Ok(())) => tracing::debug!("cancelled an abandoned postgres query"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not cancel an abandoned postgres query")
                }
                Err(_) => tracing::warn!("cancelling an abandoned postgres query timed out"),
            }
            drop(self);
        });
    }
}

/// Session settings every pooled PostgreSQL connection runs with, whatever the server,
/// database or role defaults say: `standard_conforming_strings = on`, so `'…'` strings
/// never treat a backslash as an escape (the guard writes `E'…'` for any literal with a
/// backslash, which reads the same either way).
pub(crate) const PG_SESSION: &str = "SET standard_conforming_strings = on";

/// Applies [`PG_SESSION`] to a new connection.
pub(crate) async fn pg_session(client: &tokio_postgres::Client) -> Result<(), ExecError> {
    client.batch_execute(PG_SESSION).await.map_err(|e| {
        ExecError::Connection(format!(
            "could not set up the session: {}",
            super::pg_message(&e)
        ))
    })
}

/// A bounded pool of PostgreSQL connections to one target.
pub(crate) fn pg_pool(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    application_name: &str,
    max_size: usize,
) -> Result<Pool<PgManager>, RunError> {
    let manager = PgManager {
        target: target.clone(),
        password: password.cloned(),
        application_name: application_name.to_owned(),
        tls: super::pg_tls(target).map_err(crate::pool::connect_error)?,
    };
    bounded(manager, max_size)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use querent_domain::Dialect;

    use super::*;
    use crate::pool::tests::{target, up};

    #[tokio::test]
    async fn pg_sessions_use_standard_conforming_strings() {
        if !up("PostgreSQL", "127.0.0.1:5432").await {
            return;
        }
        let t = target(Dialect::Postgres, 5432, "postgres");
        let (client, _driver) =
            super::super::connect(&t, None, Duration::from_secs(5), "querent-test")
                .await
                .unwrap();
        client
            .batch_execute("SET standard_conforming_strings = off")
            .await
            .unwrap();
        pg_session(&client).await.unwrap();
        let row = client
            .query_one(
                r"SELECT current_setting('standard_conforming_strings'), 'a\\b'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "on");
        assert_eq!(row.get::<_, String>(1), r"a\\b");
    }
}
