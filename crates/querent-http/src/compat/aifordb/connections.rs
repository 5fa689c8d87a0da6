//! `/connections`: the seed's `type` is the native dialect (`postgresql` is `postgres`);
//! a failed test is the seed's `connection_error` (502).

use actix_web::web::Path;
use querent_app::connections::{ConnectionRequest, ConnectionView};
use querent_domain::{ConnectionId, Dialect, ErrorCode, Secret, SslMode};
use serde::{Deserialize, Serialize};

use super::{AiError, Body, Key, Paging, Reply, created, deleted, id, ok, page};
use querent_app::ServiceError;

/// `POST /connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Secret<String>>,
    #[serde(default)]
    ssl_mode: Option<SslMode>,
    /// SQLite files (an extension of the seed): the file's path.
    #[serde(default)]
    path: Option<String>,
}

/// A connection as the seed's clients read it (never the password).
#[derive(Serialize)]
struct ConnectionOut {
    id: ConnectionId,
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    host: Option<String>,
    port: Option<u16>,
    database: Option<String>,
    username: Option<String>,
    ssl_mode: SslMode,
    created_at: String,
}

/// The seed's spelling of a dialect.
fn type_of(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "postgresql",
        Dialect::Mysql => "mysql",
        Dialect::Sqlite => "sqlite",
    }
}

impl From<ConnectionView> for ConnectionOut {
    fn from(c: ConnectionView) -> Self {
        Self {
            id: c.id,
            kind: type_of(c.dialect),
            name: c.name,
            host: c.host,
            port: c.port,
            database: c.database,
            username: c.username,
            ssl_mode: c.ssl_mode,
            created_at: c.created_at,
        }
    }
}

/// `GET /connections`.
pub async fn list(key: Key, paging: Paging) -> Reply {
    let p = key
        .0
        .call(move |app, actor| async move { app.list_connections(&actor, &paging).await })
        .await?;
    page(p, ConnectionOut::from)
}

/// `POST /connections`.
pub async fn create(key: Key, body: Body<CreateConnection>) -> Reply {
    let b = body.0;
    let dialect = match b.kind.as_str() {
        "postgresql" | "postgres" => Dialect::Postgres,
        "mysql" | "mariadb" => Dialect::Mysql,
        "sqlite" => Dialect::Sqlite,
        other => {
            return Err(AiError::validation(format!(
                "type: `{other}` is not supported; use postgresql, mysql or sqlite"
            )));
        }
    };
    // Built through serde so fields the native request gains stay at their defaults.
    let mut req: ConnectionRequest = serde_json::from_value(serde_json::json!({
        "name": b.name,
        "dialect": dialect,
        "host": b.host,
        "port": b.port,
        "database": b.database,
        "username": b.username,
        "ssl_mode": b.ssl_mode,
        "path": b.path,
    }))
    .map_err(|e| AiError::validation(format!("body: {e}")))?;
    req.password = b.password;
    let c = key
        .0
        .call(move |app, actor| async move { app.create_connection(&actor, req).await })
        .await?;
    created(ConnectionOut::from(c))
}

/// `POST /connections/{connection_id}/test`: 200 when the database answers, else 502
/// `connection_error`.
pub async fn test(key: Key, path: Path<String>) -> Reply {
    let cid: ConnectionId = id(&path, "connection")?;
    let r = key
        .0
        .call(move |app, actor| async move { app.test_connection(&actor, cid).await })
        .await?;
    if !r.ok {
        let detail = r
            .error
            .map_or_else(|| "the database did not answer".to_owned(), |e| e.detail);
        return Err(AiError(ServiceError::new(
            ErrorCode::ConnectionError,
            detail,
        )));
    }
    ok(serde_json::json!({
        "success": true,
        "type": type_of(r.dialect),
        "server_version": r.server_version,
        "latency_ms": r.latency_ms,
    }))
}

/// `DELETE /connections/{connection_id}`.
pub async fn delete(key: Key, path: Path<String>) -> Reply {
    let cid: ConnectionId = id(&path, "connection")?;
    key.0
        .call(move |app, actor| async move { app.delete_connection(&actor, cid).await })
        .await?;
    deleted()
}
