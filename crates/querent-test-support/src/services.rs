//! Real local database servers for tests: availability checks and throw-away databases.

use std::time::Duration;

/// Whether tests must fail (not skip) when a service is missing: `QUERENT_REQUIRE_SERVICES=1`
/// (the [`querent_test_gate`] rule every test binary shares).
pub fn require_services() -> bool {
    querent_test_gate::SERVICES.required()
}

/// Call when a service is unreachable: panics under `QUERENT_REQUIRE_SERVICES=1`, else
/// writes the gate's `SKIPPED` line (seen in `cargo test`'s output). `test` names the
/// caller for the message when the running test's name is not known.
pub fn service_missing(test: &str, service: &str, why: &str) -> bool {
    querent_test_gate::missing(service, format_args!("{why}; needed by {test}"));
    true
}

/// URL of the local PostgreSQL server's maintenance database (`QUERENT_TEST_PG_URL` overrides).
pub fn pg_admin_url() -> String {
    std::env::var("QUERENT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// URL of the local MariaDB/MySQL server (`QUERENT_TEST_MYSQL_URL` overrides).
pub fn mysql_url() -> String {
    std::env::var("QUERENT_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A PostgreSQL database created for one test and dropped (with its connections) when
/// this value is dropped.
pub struct PgDatabase {
    /// Database name.
    pub name: String,
    /// URL to connect to it as the superuser.
    pub url: String,
    admin_url: String,
}

impl PgDatabase {
    /// Creates a fresh database; `None` (after printing why) when PostgreSQL is unreachable.
    pub async fn create(test: &str) -> Option<Self> {
        let admin_url = pg_admin_url();
        let connect = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_postgres::connect(&admin_url, tokio_postgres::NoTls),
        );
        let (client, conn) = match connect.await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                service_missing(test, "PostgreSQL", &e.to_string());
                return None;
            }
            Err(_) => {
                service_missing(test, "PostgreSQL", "connect timed out");
                return None;
            }
        };
        let task = tokio::spawn(conn);
        let name = unique("querent_t");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        drop(client);
        task.abort();
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin_url.clone());
        Some(Self {
            url: format!("{base}/{name}"),
            name,
            admin_url,
        })
    }

    /// Runs SQL in the test database.
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let r = client.batch_execute(sql).await.map_err(|e| e.to_string());
        task.abort();
        r
    }

    /// Runs a query returning one text column.
    pub async fn query_strings(&self, sql: &str) -> Result<Vec<Option<String>>, String> {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let rows = client.query(sql, &[]).await.map_err(|e| e.to_string());
        task.abort();
        Ok(rows?
            .iter()
            .map(|r| r.get::<_, Option<String>>(0))
            .collect())
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                {
                    let task = tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    task.abort();
                }
            });
        })
        .join();
    }
}

/// A MariaDB/MySQL database created for one test and dropped afterwards.
pub struct MysqlDatabase {
    /// Database name.
    pub name: String,
    server_url: String,
}

impl MysqlDatabase {
    /// Creates a fresh database; `None` (after printing why) when the server is unreachable.
    pub async fn create(test: &str) -> Option<Self> {
        use mysql_async::prelude::Queryable as _;
        let server_url = mysql_url();
        let opts = match mysql_async::Opts::from_url(&server_url) {
            Ok(o) => o,
            Err(e) => {
                service_missing(test, "MariaDB", &e.to_string());
                return None;
            }
        };
        let conn = tokio::time::timeout(Duration::from_secs(5), mysql_async::Conn::new(opts)).await;
        let mut conn = match conn {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                service_missing(test, "MariaDB", &e.to_string());
                return None;
            }
            Err(_) => {
                service_missing(test, "MariaDB", "connect timed out");
                return None;
            }
        };
        let name = unique("querent_t");
        conn.query_drop(format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let _ = conn.disconnect().await;
        Some(Self { name, server_url })
    }

    /// Runs statements (separated by `;`) in this database.
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        use mysql_async::prelude::Queryable as _;
        let opts = mysql_async::Opts::from_url(&self.server_url).map_err(|e| e.to_string())?;
        let opts = mysql_async::OptsBuilder::from_opts(opts).db_name(Some(self.name.clone()));
        let mut conn = mysql_async::Conn::new(opts)
            .await
            .map_err(|e| e.to_string())?;
        conn.query_drop(sql).await.map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok(())
    }

    /// The first column of every row of a query in this database, as text.
    pub async fn query_strings(&self, sql: &str) -> Result<Vec<Option<String>>, String> {
        use mysql_async::prelude::Queryable as _;
        let opts = mysql_async::Opts::from_url(&self.server_url).map_err(|e| e.to_string())?;
        let opts = mysql_async::OptsBuilder::from_opts(opts).db_name(Some(self.name.clone()));
        let mut conn = mysql_async::Conn::new(opts)
            .await
            .map_err(|e| e.to_string())?;
        let rows: Vec<Option<String>> = conn.query(sql).await.map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok(rows)
    }
}

impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.server_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use mysql_async::prelude::Queryable as _;
                if let Ok(opts) = mysql_async::Opts::from_url(&url)
                    && let Ok(mut conn) = mysql_async::Conn::new(opts).await
                {
                    let _ = conn
                        .query_drop(format!(
                            "SET SESSION lock_wait_timeout = 20; DROP DATABASE IF EXISTS {name}"
                        ))
                        .await;
                    let _ = conn.disconnect().await;
                }
            });
        })
        .join();
    }
}
