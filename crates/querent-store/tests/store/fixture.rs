//! The backend fixture: a fresh store per test, on SQLite or on PostgreSQL.

use std::future::Future;

use querent_store::{Store, StoreConfig};

/// Where a test's store lives.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    /// An embedded SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the local PostgreSQL server (`QUERENT_TEST_PG_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/postgres`), dropped after the test.
    Postgres,
}

impl Backend {
    /// Runs `test` on a fresh, migrated store of this backend. Without PostgreSQL the
    /// PostgreSQL variant is skipped through querent-test-gate (or fails under
    /// `QUERENT_REQUIRE_SERVICES=1`).
    pub async fn run<F, Fut>(self, test: F)
    where
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let store = Store::open(StoreConfig::sqlite(dir.path().join("querent.db")))
                    .await
                    .unwrap();
                test(store).await;
            }
            Backend::Postgres => {
                let Some(db) = PgDatabase::create().await else {
                    return;
                };
                let store = Store::open(StoreConfig::postgres(db.url.clone()))
                    .await
                    .unwrap();
                // On a task of its own, so that a failing test still drops its database.
                let outcome = tokio::spawn(test(store)).await;
                db.drop_database().await;
                if let Err(e) = outcome {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    }
}

impl Backend {
    /// Runs `test` on two stores opened separately on one fresh database of this backend,
    /// as two server instances sharing it would (two pools; on SQLite, two pools on one
    /// file).
    pub async fn run_pair<F, Fut>(self, test: F)
    where
        F: FnOnce(Store, Store) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let config = StoreConfig::sqlite(dir.path().join("querent.db"));
                let a = Store::open(config.clone()).await.unwrap();
                let b = Store::open(config).await.unwrap();
                test(a, b).await;
            }
            Backend::Postgres => {
                let Some(db) = PgDatabase::create().await else {
                    return;
                };
                let config = StoreConfig::postgres(db.url.clone());
                let a = Store::open(config.clone()).await.unwrap();
                let b = Store::open(config).await.unwrap();
                let outcome = tokio::spawn(test(a, b)).await;
                db.drop_database().await;
                if let Err(e) = outcome {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    }
}

/// Runs `test` with the URL of a fresh, empty (not migrated) PostgreSQL database, dropped
/// after it; skipped through querent-test-gate without PostgreSQL.
pub async fn on_empty_postgres_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let outcome = tokio::spawn(test(db.url.clone())).await;
    db.drop_database().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A database created for one test.
struct PgDatabase {
    admin: tokio_postgres::Client,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create() -> Option<Self> {
        let admin_url = std::env::var("QUERENT_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let (admin, conn) = match tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await {
            Ok(x) => x,
            Err(e) => {
                querent_test_gate::missing(&format!("PostgreSQL at {admin_url}"), e);
                return None;
            }
        };
        tokio::spawn(conn);
        let name = format!("querent_store_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }

    async fn drop_database(self) {
        self.admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}
