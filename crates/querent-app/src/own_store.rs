//! Querent's own metadata store — this instance's or another's — is never a target: it
//! holds password hashes, refresh tokens, API-client secrets, every team's chats and the
//! encrypted credentials of every connection. A team admin who could register it (say with
//! `host=127.0.0.1 dbname=querent` on a server that trusts local connections, or a copy of
//! an embedded store dropped into the SQLite folder) could read all of that through the
//! guard, which only knows the target's own schema.
//!
//! The rule that recognises a store lives in one place,
//! [`querent_domain::schema::querent_store`]; it is applied
//!
//! - to **every schema read** (introspection → snapshot): at registration and connection
//!   tests (a catalog read without samples, refused on a match), on schema refresh and first
//!   use (the snapshot is refused, never stored), and to **every stored snapshot** before it
//!   is served, linked or used by the guard (`App::stored_schema`);
//! - to the **table names in a SQLite file's header** before every use
//!   ([`App::usable_target`]), so a store copied or linked into the sandbox after the
//!   connection was registered (with a harmless file) is refused too;
//! - and, without reading anything, a PostgreSQL target at the **server's own
//!   `database_url`** (same port and database, the same host by name, loopback or address)
//!   is refused at registration, test and every use.
//!
//! The refusal is `forbidden` (403): the request is well formed and names a real database,
//! but policy says no — like a SQLite path outside the sandbox, which is refused the same
//! way. (`validation_error` would suggest fixing a field; there is nothing to fix.)

use std::net::IpAddr;
use std::path::Path;

use querent_domain::ports::SchemaReadOptions;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionTarget, Dialect, Secret};

use crate::{App, ServiceError, ServiceResult};

/// Where the server's own PostgreSQL store lives (from `database_url`), to refuse it as a
/// target without connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreLocation {
    /// Host names or addresses the URL lists (a unix-socket directory counts as this
    /// machine).
    pub hosts: Vec<String>,
    /// Port.
    pub port: u16,
    /// Database name.
    pub database: String,
}

/// The refusal.
pub(crate) fn own_store_refused() -> ServiceError {
    ServiceError::forbidden(
        "this database is a Querent metadata store (it holds password hashes, tokens, \
         credentials and every team's chats); it cannot be a connection",
    )
}

/// Refuses a snapshot that looks like a Querent store.
pub(crate) fn refuse_store_snapshot(snapshot: &SchemaSnapshot) -> ServiceResult<()> {
    if snapshot.looks_like_querent_store() {
        return Err(own_store_refused());
    }
    Ok(())
}

fn is_loopback_name(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.starts_with('/')
        || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether two host names certainly or possibly name one server, without the network.
fn same_host_by_name(a: &str, b: &str) -> bool {
    let norm = |h: &str| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    norm(a) == norm(b) || (is_loopback_name(a) && is_loopback_name(b))
}

/// The addresses a host name resolves to (empty when it does not, within `timeout`).
async fn addresses(host: &str, port: u16, timeout: std::time::Duration) -> Vec<IpAddr> {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
        Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
        _ => Vec::new(),
    }
}

impl App {
    /// Refuses, without reading its catalog, a target that is known to be a Querent store:
    /// a PostgreSQL target at the server's own `database_url`, or a SQLite file whose header
    /// names the store's tables. Blocking work (the file read) runs on the blocking pool.
    pub(crate) async fn refuse_own_store_target(
        &self,
        target: &ConnectionTarget,
    ) -> ServiceResult<()> {
        match target.dialect {
            Dialect::Postgres => {
                if let Some(store) = &self.config().own_store
                    && self.is_own_pg_store(store, target).await
                {
                    return Err(own_store_refused());
                }
                Ok(())
            }
            Dialect::Sqlite => {
                let Some(path) = target.path.clone() else {
                    return Ok(());
                };
                let store = tokio::task::spawn_blocking(move || {
                    crate::sqlite_files::looks_like_querent_store(Path::new(&path))
                })
                .await
                .map_err(ServiceError::internal)?;
                if store {
                    return Err(own_store_refused());
                }
                Ok(())
            }
            Dialect::Mysql => Ok(()),
        }
    }

    async fn is_own_pg_store(&self, store: &StoreLocation, target: &ConnectionTarget) -> bool {
        let (Some(host), Some(database)) = (target.host.as_deref(), target.database.as_deref())
        else {
            return false;
        };
        if target.port.or(Dialect::Postgres.default_port()) != Some(store.port)
            || !database.eq_ignore_ascii_case(&store.database)
        {
            return false;
        }
        if store.hosts.iter().any(|h| same_host_by_name(h, host)) {
            return true;
        }
        // Another name of the same machine (a DNS alias, its LAN address): compare what
        // the names resolve to. Only reached when port and database already match.
        let timeout = self.config().connect_timeout;
        let theirs = addresses(host, store.port, timeout).await;
        if theirs.is_empty() {
            return false;
        }
        for h in &store.hosts {
            let ours = if is_loopback_name(h) {
                vec![IpAddr::from([127, 0, 0, 1])]
            } else {
                addresses(h, store.port, timeout).await
            };
            let local = |ip: &IpAddr| ip.is_loopback() || ip.is_unspecified();
            if theirs
                .iter()
                .any(|t| ours.contains(t) || (local(t) && ours.iter().any(local)))
            {
                return true;
            }
        }
        false
    }

    /// Reads the target's catalog (structure only, no samples) and refuses it when it is a
    /// Querent store. Best effort by design: a target that cannot be read now (down,
    /// wrong password) is not refused here — every later schema read applies the same
    /// rule before anything is stored or served.
    pub(crate) async fn refuse_store_by_schema(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        schemas: &[String],
    ) -> ServiceResult<()> {
        let options = SchemaReadOptions {
            schemas: schemas.to_vec(),
            sample_values: false,
            privacy: Default::default(),
            connect_timeout: self.config().connect_timeout,
        };
        match self
            .schema_reader()
            .read_schema(target, password, &options)
            .await
        {
            Ok(snapshot) => refuse_store_snapshot(&snapshot),
            Err(e) => {
                tracing::debug!(error = %e, "catalog not readable for the store check; checked again on use");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_of_one_machine_match() {
        for (a, b) in [
            ("127.0.0.1", "localhost"),
            ("LOCALHOST", "::1"),
            ("[::1]", "127.0.0.1"),
            ("/var/run/postgresql", "127.0.0.1"),
            ("db.internal", "DB.internal."),
            ("127.0.0.2", "localhost"),
        ] {
            assert!(same_host_by_name(a, b), "{a} {b}");
        }
        for (a, b) in [("db.internal", "127.0.0.1"), ("10.0.0.1", "10.0.0.2")] {
            assert!(!same_host_by_name(a, b), "{a} {b}");
        }
    }
}
