//! Pooled MySQL and MariaDB connections: the deadpool manager, the session every
//! connection is put in (character set and `sql_mode` the guard's rendering relies on), and
//! cancellation of an abandoned query (`KILL CONNECTION` from a second connection: the
//! connection is never reused, and its open transaction must not keep its locks).

use deadpool::managed::{self, Metrics, Pool, RecycleError};
use mysql_async::prelude::Queryable;
use querent_domain::query::ExecError as RunError;
use querent_domain::{ConnectionTarget, Secret};

use crate::error::ExecError;
use crate::pool::{
    CANCEL_BUDGET, CHECK_AFTER_IDLE, DRIVER_CONNECT_CAP, Kill, bounded, spawn_detached,
};

/// Creates mysql_async connections to one target.
pub(crate) struct MyManager {
    target: ConnectionTarget,
    password: Option<Secret<String>>,
}

/// A pooled MySQL or MariaDB connection.
pub(crate) struct MyConn {
    /// The connection.
    pub conn: mysql_async::Conn,
    /// Whether the server is MariaDB (statement timeouts are set differently).
    pub mariadb: bool,
}

impl managed::Manager for MyManager {
    type Type = MyConn;
    type Error = ExecError;

    async fn create(&self) -> Result<MyConn, ExecError> {
        let mut conn =
            super::connect(&self.target, self.password.as_ref(), DRIVER_CONNECT_CAP).await?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| ExecError::Connection(super::my_message(&e)))?;
        let mariadb = version.is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
        my_session(&mut conn).await?;
        Ok(MyConn { conn, mariadb })
    }

    async fn recycle(
        &self,
        conn: &mut MyConn,
        metrics: &Metrics,
    ) -> managed::RecycleResult<ExecError> {
        if metrics.last_used() > CHECK_AFTER_IDLE {
            conn.conn
                .ping()
                .await
                .map_err(|e| RecycleError::message(format!("connection check failed: {e}")))?;
        }
        Ok(())
    }
}

impl Kill for MyConn {
    fn kill(self) {
        let id = self.conn.id();
        let opts = self.conn.opts().clone();
        spawn_detached(async move {
            let killed = tokio::time::timeout(CANCEL_BUDGET, async move {
                let mut killer = mysql_async::Conn::new(opts).await?;
                // The whole connection, not just its query: it is never reused, and its
                // open read-only transaction would otherwise keep its metadata locks (and
                // block DDL on the target) until the socket finally closes.
                killer.query_drop(format!("KILL CONNECTION {id}")).await?;
                killer.disconnect().await
            })
            .await;
            match killed {
                Ok(Ok(())) => tracing::debug!(id, "killed an abandoned mysql query"),
                Ok(Err(e)) => {
                    tracing::warn!(id, error = %e, "could not kill an abandoned mysql query")
                }
                Err(_) => tracing::warn!(id, "killing an abandoned mysql query timed out"),
            }
            drop(self);
        });
    }
}

/// SQL modes a pooled MySQL/MariaDB session must not have: they change how the statements
/// the guard renders are read. `NO_BACKSLASH_ESCAPES` makes a backslash in a string
/// literal an ordinary character (the guard escapes with backslashes), `ANSI_QUOTES`
/// makes `"…"` an identifier; the combination modes that switch `ANSI_QUOTES` on again
/// when the list is set back (`ANSI`, `DB2`, `MAXDB`, `MSSQL`, `ORACLE`, `POSTGRESQL`) go
/// too.
const UNSAFE_SQL_MODES: &[&str] = &[
    "NO_BACKSLASH_ESCAPES",
    "ANSI_QUOTES",
    "ANSI",
    "DB2",
    "MAXDB",
    "MSSQL",
    "ORACLE",
    "POSTGRESQL",
];

/// `sql_mode` without the [`UNSAFE_SQL_MODES`] (and without anything that is not a plain
/// mode name, so the result can be written into a statement as it is).
pub(crate) fn safe_sql_mode(mode: &str) -> String {
    mode.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .filter(|m| !UNSAFE_SQL_MODES.iter().any(|u| u.eq_ignore_ascii_case(m)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether a session's `sql_mode` reads backslash escapes and single-quoted strings only.
fn sql_mode_is_safe(mode: &str) -> bool {
    !mode.split(',').map(str::trim).any(|m| {
        m.eq_ignore_ascii_case("NO_BACKSLASH_ESCAPES") || m.eq_ignore_ascii_case("ANSI_QUOTES")
    })
}

/// The character sets a session may read the guard's statements in: ASCII-compatible
/// ones in which a byte below 0x80 is always that ASCII character. In multi-byte sets such
/// as `gbk`, `big5`, `sjis`, `cp932` or `gb18030` a backslash (0x5C) can be the second byte
/// of a character: `'中\\'` would be read as an unfinished string, and an escaped quote as
/// a real one.
const SAFE_CHARSETS: &[&str] = &["utf8mb4", "utf8mb3", "utf8", "latin1", "ascii"];

/// Whether a session character set reads backslashes and quotes as the guard wrote them.
fn charset_is_safe(charset: &str) -> bool {
    SAFE_CHARSETS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(charset.trim()))
}

/// Puts the session on `utf8mb4` (`SET NAMES`) and checks `character_set_client` and
/// `character_set_connection` afterwards: a session left on a multi-byte set that can hide
/// a backslash (a server `init_connect`, a proxy) is refused.
async fn my_charset(conn: &mut mysql_async::Conn) -> Result<(), ExecError> {
    let failed = |e: mysql_async::Error| {
        ExecError::Connection(format!(
            "could not set up the session: {}",
            super::my_message(&e)
        ))
    };
    conn.query_drop("SET NAMES utf8mb4").await.map_err(failed)?;
    let sets: Option<(String, String)> = conn
        .query_first("SELECT @@SESSION.character_set_client, @@SESSION.character_set_connection")
        .await
        .map_err(failed)?;
    let (client, connection) = sets.unwrap_or_default();
    if !charset_is_safe(&client) || !charset_is_safe(&connection) {
        return Err(ExecError::Connection(format!(
            "the session keeps character set {client}/{connection}: it must be utf8mb4 (or \
             another ASCII-safe set) so that escaped strings are read as written"
        )));
    }
    Ok(())
}

/// Puts a new session on `utf8mb4` ([`my_charset`]), reads its `sql_mode`, drops the
/// [`UNSAFE_SQL_MODES`], sets it back and checks the result: a session the guard's
/// rendering would be misread on is refused.
pub(crate) async fn my_session(conn: &mut mysql_async::Conn) -> Result<(), ExecError> {
    my_charset(conn).await?;
    let failed = |e: mysql_async::Error| {
        ExecError::Connection(format!(
            "could not set up the session: {}",
            super::my_message(&e)
        ))
    };
    let mode: Option<String> = conn
        .query_first("SELECT @@SESSION.sql_mode")
        .await
        .map_err(failed)?;
    let mode = mode.unwrap_or_default();
    let safe = safe_sql_mode(&mode);
    if safe != mode {
        conn.query_drop(format!("SET SESSION sql_mode = '{safe}'"))
            .await
            .map_err(failed)?;
        let now: Option<String> = conn
            .query_first("SELECT @@SESSION.sql_mode")
            .await
            .map_err(failed)?;
        let now = now.unwrap_or_default();
        if !sql_mode_is_safe(&now) {
            return Err(ExecError::Connection(format!(
                "the session keeps sql_mode {now}: NO_BACKSLASH_ESCAPES and ANSI_QUOTES must be off"
            )));
        }
    }
    Ok(())
}

/// A bounded pool of MySQL/MariaDB connections to one target.
pub(crate) fn my_pool(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    max_size: usize,
) -> Result<Pool<MyManager>, RunError> {
    let manager = MyManager {
        target: target.clone(),
        password: password.cloned(),
    };
    bounded(manager, max_size)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mysql_async::prelude::Queryable;
    use querent_domain::Dialect;

    use super::*;
    use crate::pool::checkout;
    use crate::pool::tests::{target, up};

    #[test]
    fn unsafe_sql_modes_are_dropped() {
        assert_eq!(
            safe_sql_mode(
                "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES,ONLY_FULL_GROUP_BY"
            ),
            "STRICT_TRANS_TABLES,ONLY_FULL_GROUP_BY"
        );
        assert_eq!(
            safe_sql_mode("REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI"),
            "REAL_AS_FLOAT,PIPES_AS_CONCAT,IGNORE_SPACE"
        );
        assert_eq!(safe_sql_mode(""), "");
        assert_eq!(safe_sql_mode("no_backslash_escapes"), "");
        assert_eq!(
            safe_sql_mode("STRICT_ALL_TABLES,X'; DROP"),
            "STRICT_ALL_TABLES"
        );
        assert!(sql_mode_is_safe("STRICT_TRANS_TABLES"));
        assert!(!sql_mode_is_safe("ANSI_QUOTES"));
    }

    async fn sql_mode(conn: &mut mysql_async::Conn) -> String {
        conn.query_first::<String, _>("SELECT @@SESSION.sql_mode")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// `'a\\'` and `"b"` as the session reads them.
    async fn literals(conn: &mut mysql_async::Conn) -> (String, String) {
        conn.query_first::<(String, String), _>(r#"SELECT 'a\\', "b""#)
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn mysql_sessions_read_backslash_escapes_and_single_quoted_strings() {
        if !up("MariaDB", "127.0.0.1:3306").await {
            return;
        }
        let t = target(Dialect::Mysql, 3306, "root");
        let mut conn = super::super::connect(&t, None, Duration::from_secs(5))
            .await
            .unwrap();
        for mode in [
            "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES",
            "ANSI,NO_BACKSLASH_ESCAPES",
            "ORACLE",
            "",
        ] {
            conn.query_drop(format!("SET SESSION sql_mode = '{mode}'"))
                .await
                .unwrap();
            my_session(&mut conn).await.unwrap();
            let now = sql_mode(&mut conn).await;
            assert!(sql_mode_is_safe(&now), "{mode} → {now}");
            assert_eq!(
                literals(&mut conn).await,
                ("a\\".to_owned(), "b".to_owned()),
                "{mode} → {now}"
            );
            if mode.starts_with("STRICT") {
                assert_eq!(now, "STRICT_TRANS_TABLES", "other modes stay");
            }
        }
        conn.disconnect().await.unwrap();

        // Through the pool, with the server's default mode unsafe while the connection is
        // made. The change is GLOBAL on a server other tests share: the window is kept to
        // one connection attempt, and the guard restores the old mode on every path — a
        // failed step, a panic — before anything is unwrapped or asserted.
        let global = GlobalSqlMode::make_unsafe(&t).await;
        let pool = my_pool(&t, None, 1);
        let lease = match &pool {
            Ok(pool) => Some(checkout(pool, Duration::from_secs(5)).await),
            Err(_) => None,
        };
        let unsafe_global = global.restore().await;
        assert!(
            unsafe_global.contains("NO_BACKSLASH_ESCAPES"),
            "{unsafe_global}"
        );
        let pool = pool.unwrap();
        let mut lease = lease.unwrap().unwrap();
        let conn = &mut lease.conn().conn;
        let now = sql_mode(conn).await;
        assert!(sql_mode_is_safe(&now), "{now}");
        assert_eq!(literals(conn).await, ("a\\".to_owned(), "b".to_owned()));
        lease.release();
        pool.close();
    }

    /// Sets the server's GLOBAL `sql_mode` to an unsafe one and puts it back — by
    /// [`GlobalSqlMode::restore`], or when dropped (a panic, an early return) from a thread
    /// of its own, so the shared server never stays unsafe for the tests that follow.
    struct GlobalSqlMode {
        target: ConnectionTarget,
        /// The mode to put back; `None` once restored.
        saved: Option<String>,
    }

    impl GlobalSqlMode {
        /// Adds `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES` to the global mode.
        async fn make_unsafe(t: &ConnectionTarget) -> Self {
            let mut root = super::super::connect(t, None, Duration::from_secs(5))
                .await
                .unwrap();
            let saved: String = root
                .query_first("SELECT @@GLOBAL.sql_mode")
                .await
                .unwrap()
                .unwrap_or_default();
            // From here on, Drop restores `saved` whatever happens.
            let guard = Self {
                target: t.clone(),
                saved: Some(saved),
            };
            let set = root
                .query_drop(
                    "SET GLOBAL sql_mode = CONCAT_WS(',', NULLIF(@@GLOBAL.sql_mode, ''), \
                     'NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES')",
                )
                .await;
            let _ = root.disconnect().await;
            set.unwrap();
            guard
        }

        /// Restores the saved mode; returns the global mode as it was just before.
        async fn restore(mut self) -> String {
            let saved = self.saved.take().unwrap_or_default();
            set_global_sql_mode(&self.target, &saved).await
        }
    }

    impl Drop for GlobalSqlMode {
        fn drop(&mut self) {
            let Some(saved) = self.saved.take() else {
                return;
            };
            let target = self.target.clone();
            // Drop may run on the test's runtime (while unwinding): a thread with its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(set_global_sql_mode(&target, &saved));
                }
            })
            .join();
        }
    }

    /// Sets the GLOBAL `sql_mode` (a plain list of mode names) and returns the one before.
    async fn set_global_sql_mode(t: &ConnectionTarget, mode: &str) -> String {
        assert!(
            mode.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ','),
            "only plain mode names are written into the statement: {mode}"
        );
        let mut root = super::super::connect(t, None, Duration::from_secs(5))
            .await
            .expect("reconnect to restore the global sql_mode");
        let before: Option<String> = root
            .query_first("SELECT @@GLOBAL.sql_mode")
            .await
            .ok()
            .flatten();
        root.query_drop(format!("SET GLOBAL sql_mode = '{mode}'"))
            .await
            .expect("restore the global sql_mode");
        let _ = root.disconnect().await;
        before.unwrap_or_default()
    }

    #[test]
    fn only_ascii_safe_charsets_are_accepted() {
        for ok in ["utf8mb4", "UTF8MB3", "utf8", "latin1", "ascii"] {
            assert!(charset_is_safe(ok), "{ok}");
        }
        for bad in [
            "gbk", "big5", "sjis", "cp932", "gb18030", "gb2312", "ucs2", "",
        ] {
            assert!(!charset_is_safe(bad), "{bad}");
        }
    }

    /// A client character set in which a backslash can end a multi-byte character (`中` is
    /// E4 B8 AD in UTF-8; GBK reads AD 5C as one character) would swallow the backslash
    /// that escapes the next one: every pooled session is put on utf8mb4 first.
    #[tokio::test]
    async fn mysql_sessions_are_utf8mb4_whatever_the_client_charset() {
        if !up("MariaDB", "127.0.0.1:3306").await {
            return;
        }
        let t = target(Dialect::Mysql, 3306, "root");
        let mut conn = super::super::connect(&t, None, Duration::from_secs(5))
            .await
            .unwrap();
        for charset in ["gbk", "big5", "sjis", "cp932"] {
            conn.query_drop(format!("SET NAMES {charset}"))
                .await
                .unwrap();
            my_session(&mut conn).await.unwrap();
            let sets: (String, String) = conn
                .query_first(
                    "SELECT @@SESSION.character_set_client, @@SESSION.character_set_connection",
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                sets,
                ("utf8mb4".to_owned(), "utf8mb4".to_owned()),
                "{charset}"
            );
            // The value `中\`, rendered for MySQL as the guard does: its backslash escaped.
            let v: Option<String> = conn.query_first(r"SELECT '中\\' AS v").await.unwrap();
            assert_eq!(v.as_deref(), Some(r"中\"), "{charset}");
        }
        conn.disconnect().await.unwrap();
    }
}
