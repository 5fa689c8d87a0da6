//! Connections to target databases: CRUD, real connection tests, execution mode, privacy
//! policy and limits. Passwords are write-only: encrypted by the vault on the way in, never
//! returned (responses only say `has_password`). Creating, changing and deleting
//! connections — and testing unsaved ones, which opens network connections to arbitrary
//! hosts — needs the team admin role; using and testing saved ones needs membership.

use querent_domain::HasErrorCode as _;
use querent_domain::{
    Connection, ConnectionId, ConnectionLimits, ConnectionTarget, Dialect, ErrorCode,
    ExecutionMode, PrivacyPolicy, Secret, SslMode, TeamId, TeamRole, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::teams::validate_resource_name;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// Name of the connection that points at the generated demo database.
pub const DEMO_CONNECTION_NAME: &str = "demo";

/// Bounds of the per-connection limits.
pub const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 100..=600_000;
/// Bounds of the per-connection row cap.
pub const MAX_ROWS_RANGE: std::ops::RangeInclusive<u32> = 1..=1_000_000;

/// A connection to create, or to test without saving.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectionRequest {
    /// Name, unique in the team (required to create; optional to test).
    pub name: Option<String>,
    /// `postgres`, `mysql` or `sqlite`.
    pub dialect: Dialect,
    /// Host (postgres, mysql).
    pub host: Option<String>,
    /// Port (default 5432 / 3306).
    pub port: Option<u16>,
    /// Database name (postgres, mysql).
    pub database: Option<String>,
    /// User name (postgres, mysql).
    pub username: Option<String>,
    /// Password: write-only, stored encrypted.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub password: Option<Secret<String>>,
    /// Database file (sqlite): an existing file inside the server's SQLite directories —
    /// the team's uploads (`POST /connections/sqlite-files`), the operator's `sqlite_dirs`
    /// or the demo database.
    pub path: Option<String>,
    /// `disable`, `prefer` (default: TLS when the server offers it), `require` (TLS, any
    /// certificate), `verify-ca` (TLS, a certificate signed by `ca_certificate` or a public
    /// CA) or `verify-full` (also naming `host`).
    pub ssl_mode: Option<SslMode>,
    /// The CA certificate(s), PEM, that `verify-ca` and `verify-full` trust (public CAs
    /// when absent). Not a secret: it is returned with the connection.
    pub ca_certificate: Option<String>,
    /// Schemas to introspect (default: the server's default schema).
    pub schemas: Option<Vec<String>>,
    /// What the database holds, in plain words (used in prompts).
    pub description: Option<String>,
    /// Owning team (default: the caller's first team).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub team_id: Option<TeamId>,
    /// `auto_execute` (default), `review_first` or `generate_only`.
    pub execution_mode: Option<ExecutionMode>,
    /// Excluded and masked tables/columns.
    pub privacy: Option<PrivacyPolicy>,
    /// Statement timeout and row cap.
    pub config: Option<ConnectionLimits>,
    /// Whether introspection may sample values of low-cardinality columns (default true).
    pub sample_values: Option<bool>,
}

impl ConnectionRequest {
    /// The target part of the request (not yet validated).
    fn target(&self) -> ConnectionTarget {
        ConnectionTarget {
            dialect: self.dialect,
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            username: self.username.clone(),
            path: self.path.clone(),
            ssl_mode: self.ssl_mode.unwrap_or(SslMode::Prefer),
            ca_certificate: self.ca_certificate.clone(),
        }
    }
}

/// Changes to a connection; absent fields stay as they are. A `password` replaces the
/// stored one; `clear_password: true` removes it.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateConnectionRequest {
    /// New name.
    pub name: Option<String>,
    /// New host.
    pub host: Option<String>,
    /// New port.
    pub port: Option<u16>,
    /// New database.
    pub database: Option<String>,
    /// New user name.
    pub username: Option<String>,
    /// New password (write-only).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub password: Option<Secret<String>>,
    /// Remove the stored password.
    pub clear_password: Option<bool>,
    /// New file (sqlite).
    pub path: Option<String>,
    /// New TLS mode.
    pub ssl_mode: Option<SslMode>,
    /// New CA certificate(s), PEM; an empty string removes it.
    pub ca_certificate: Option<String>,
    /// New schema list.
    pub schemas: Option<Vec<String>>,
    /// New description.
    pub description: Option<String>,
    /// New sampling choice.
    pub sample_values: Option<bool>,
}

/// Execution mode change.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExecutionModeRequest {
    /// The new mode.
    pub mode: ExecutionMode,
}

/// A connection on the wire: everything but the secret.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ConnectionId,
    /// Its stable integer alias (the `dw_id` of the Connecty compatibility layer).
    pub dw_id: i64,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// Dialect.
    pub dialect: Dialect,
    /// Host.
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Database.
    pub database: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// SQLite file.
    pub path: Option<String>,
    /// TLS mode.
    pub ssl_mode: SslMode,
    /// The CA certificate(s) `verify-ca` and `verify-full` trust, PEM.
    pub ca_certificate: Option<String>,
    /// Schemas.
    pub schemas: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Execution mode.
    pub execution_mode: ExecutionMode,
    /// Privacy policy.
    pub privacy: PrivacyPolicy,
    /// Limits.
    pub config: ConnectionLimits,
    /// Sampling choice.
    pub sample_values: bool,
    /// Whether a password is stored (it is never returned).
    pub has_password: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl ConnectionView {
    /// The view of a connection whose alias is `dw_id`.
    pub(crate) fn new(c: Connection, dw_id: i64) -> Self {
        Self {
            id: c.id,
            dw_id,
            team_id: c.team_id,
            name: c.name,
            dialect: c.target.dialect,
            host: c.target.host,
            port: c.target.port,
            database: c.target.database,
            username: c.target.username,
            path: c.target.path,
            ssl_mode: c.target.ssl_mode,
            ca_certificate: c.target.ca_certificate,
            schemas: c.schemas,
            description: c.description,
            execution_mode: c.execution_mode,
            privacy: c.privacy,
            config: c.limits,
            sample_values: c.sample_values,
            has_password: c.encrypted_secret.is_some(),
            created_at: millis_to_rfc3339(c.created_at),
            updated_at: millis_to_rfc3339(c.updated_at),
        }
    }
}

/// A machine-readable failure inside a successful response.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorInfo {
    /// Stable code (`connection_error`, `validation_error`, …).
    pub code: ErrorCode,
    /// Human message (the database's own words where it gave some).
    pub detail: String,
}

/// Outcome of a connection test.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestResult {
    /// Whether the database answered.
    pub ok: bool,
    /// Dialect tested.
    pub dialect: Dialect,
    /// The server's version string, when `ok`.
    pub server_version: Option<String>,
    /// Time taken, in milliseconds.
    pub latency_ms: u64,
    /// Why it failed, when not `ok`.
    pub error: Option<ErrorInfo>,
}

fn clean_text(field: &str, v: Option<String>, max: usize) -> ServiceResult<Option<String>> {
    match v.map(|s| s.trim().to_owned()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(ServiceError::validation(format!(
                "{field}: must be at most {max} printable characters"
            )))
        }
        Some(s) => Ok(Some(s)),
    }
}

fn check_list(field: &str, items: &[String]) -> ServiceResult<()> {
    if items.len() > 1000 {
        return Err(ServiceError::validation(format!(
            "{field}: at most 1000 entries"
        )));
    }
    for item in items {
        if item.trim().is_empty() || item.len() > 255 || item.chars().any(char::is_control) {
            return Err(ServiceError::validation(format!(
                "{field}: entries must be 1–255 printable characters"
            )));
        }
    }
    Ok(())
}

/// Checks a privacy policy's shape.
pub fn validate_privacy(p: &PrivacyPolicy) -> ServiceResult<()> {
    check_list("excluded_tables", &p.excluded_tables)?;
    check_list("excluded_columns", &p.excluded_columns)?;
    check_list("masked_column_patterns", &p.masked_column_patterns)
}

/// Checks limits against their bounds.
pub fn validate_limits(l: &ConnectionLimits) -> ServiceResult<()> {
    if !TIMEOUT_RANGE_MS.contains(&l.statement_timeout_ms) {
        return Err(ServiceError::validation(format!(
            "statement_timeout_ms: must be between {} and {}",
            TIMEOUT_RANGE_MS.start(),
            TIMEOUT_RANGE_MS.end()
        )));
    }
    if !MAX_ROWS_RANGE.contains(&l.max_rows) {
        return Err(ServiceError::validation(format!(
            "max_rows: must be between {} and {}",
            MAX_ROWS_RANGE.start(),
            MAX_ROWS_RANGE.end()
        )));
    }
    Ok(())
}

/// The largest CA certificate bundle a connection may store.
const MAX_CA_CERTIFICATE_BYTES: usize = 64 * 1024;

/// A CA certificate as stored: `None` for absent or blank; otherwise PEM with at least one
/// `CERTIFICATE` block and nothing private in it (the certificate itself is parsed when
/// connecting, where a bad one is a connection error).
fn check_ca_certificate(ca: Option<String>) -> ServiceResult<Option<String>> {
    let Some(ca) = ca.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if ca.len() > MAX_CA_CERTIFICATE_BYTES {
        return Err(ServiceError::validation(format!(
            "ca_certificate: at most {MAX_CA_CERTIFICATE_BYTES} bytes"
        )));
    }
    if !ca.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ServiceError::validation(
            "ca_certificate: must be PEM (-----BEGIN CERTIFICATE----- …)",
        ));
    }
    if ca.contains("PRIVATE KEY") {
        return Err(ServiceError::validation(
            "ca_certificate: holds a private key; give only the CA's certificate",
        ));
    }
    Ok(Some(ca + "\n"))
}

impl App {
    /// Normalises and checks a target for `team`; the error names the field. A new SQLite
    /// path (`new_path`) must be inside the sandbox ([`crate::sqlite_files`]) and is stored
    /// canonical; a stored one is left as it is (it is checked whenever it is used).
    async fn validate_target(
        &self,
        team: TeamId,
        mut t: ConnectionTarget,
        new_path: bool,
    ) -> ServiceResult<ConnectionTarget> {
        t.host = clean_text("host", t.host, 255)?;
        t.database = clean_text("database", t.database, 255)?;
        t.username = clean_text("username", t.username, 255)?;
        t.path = clean_text("path", t.path, 4096)?;
        t.ca_certificate = check_ca_certificate(t.ca_certificate)?;
        if t.ca_certificate.is_some() && t.dialect.is_file_based() {
            return Err(ServiceError::validation(format!(
                "ca_certificate: is not used by {} connections",
                t.dialect
            )));
        }
        if t.host
            .as_deref()
            .is_some_and(|h| h.contains(char::is_whitespace))
        {
            return Err(ServiceError::validation("host: must not contain spaces"));
        }
        if t.port == Some(0) {
            return Err(ServiceError::validation(
                "port: must be between 1 and 65535",
            ));
        }
        if t.dialect.is_file_based() {
            for (field, present) in [
                ("host", t.host.is_some()),
                ("port", t.port.is_some()),
                ("database", t.database.is_some()),
                ("username", t.username.is_some()),
            ] {
                if present {
                    return Err(ServiceError::validation(format!(
                        "{field}: is not used by {} connections; give path",
                        t.dialect
                    )));
                }
            }
            let path = t.path.clone().ok_or_else(|| {
                ServiceError::validation(format!("path: is required for {} connections", t.dialect))
            })?;
            if new_path {
                t.path = Some(self.sqlite_path_for(team, &path).await?);
            }
        } else {
            for (field, v) in [
                ("host", &t.host),
                ("database", &t.database),
                ("username", &t.username),
            ] {
                if v.is_none() {
                    return Err(ServiceError::validation(format!(
                        "{field}: is required for {} connections",
                        t.dialect
                    )));
                }
            }
            if t.path.is_some() {
                let file_based: Vec<&str> = Dialect::ALL
                    .iter()
                    .filter(|d| d.is_file_based())
                    .map(|d| d.as_str())
                    .collect();
                return Err(ServiceError::validation(format!(
                    "path: is only for {} connections, not {}",
                    file_based.join(" and "),
                    t.dialect
                )));
            }
            t.port = t.port.or(t.dialect.default_port());
            // The server's own store, by its address: refused without connecting.
            self.refuse_own_store_target(&t).await?;
        }
        Ok(t)
    }

    fn encrypt_password(
        &self,
        dialect: Dialect,
        password: Option<Secret<String>>,
    ) -> ServiceResult<Option<String>> {
        match password {
            Some(pw) if dialect.is_file_based() && !pw.expose().is_empty() => Err(
                ServiceError::validation(format!("password: is not used by {dialect} connections")),
            ),
            Some(pw) if !pw.expose().is_empty() => Ok(Some(self.crypto().encrypt(&pw)?)),
            _ => Ok(None),
        }
    }

    /// A page of the connections of the caller's teams.
    pub async fn list_connections(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<ConnectionView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let rows = self.store().list_connections(&teams, &page).await?;
        let ids = self
            .dw_ids(&rows.iter().map(|c| c.id).collect::<Vec<_>>())
            .await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |c| c.id.to_string(),
            |c| {
                let dw_id = ids.get(&c.id).copied().unwrap_or_default();
                ConnectionView::new(c, dw_id)
            },
        ))
    }

    /// One connection.
    pub async fn get_connection(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<ConnectionView> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        self.connection_view(conn).await
    }

    /// Creates a connection (team admin).
    pub async fn create_connection(
        &self,
        actor: &Actor,
        req: ConnectionRequest,
    ) -> ServiceResult<ConnectionView> {
        let team = self
            .acting_team(actor, req.team_id, TeamRole::Admin)
            .await?;
        let name = validate_resource_name(
            "name",
            req.name
                .as_deref()
                .ok_or_else(|| ServiceError::validation("name: is required"))?,
        )?;
        let target = self.validate_target(team, req.target(), true).await?;
        let privacy = req.privacy.unwrap_or_default();
        validate_privacy(&privacy)?;
        let limits = req.config.unwrap_or_default();
        validate_limits(&limits)?;
        let schemas = req.schemas.unwrap_or_default();
        check_list("schemas", &schemas)?;
        // A Querent metadata store (another instance's, reached under any name) is known by
        // its tables: the catalog is read once, without samples, and the target refused on
        // a match. Unreadable now, it is checked again whenever its schema is read.
        self.refuse_store_by_schema(&target, req.password.as_ref(), &schemas)
            .await?;
        let now = now_millis();
        let conn = Connection {
            id: ConnectionId::new(),
            team_id: team,
            name,
            encrypted_secret: self.encrypt_password(target.dialect, req.password)?,
            target,
            schemas,
            description: clean_text("description", req.description, 4000)?,
            execution_mode: req.execution_mode.unwrap_or(ExecutionMode::AutoExecute),
            privacy,
            limits,
            sample_values: req.sample_values.unwrap_or(true),
            row_filters: Vec::new(),
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
        };
        self.store()
            .insert_connection(&conn)
            .await
            .or_conflict(|| {
                format!(
                    "name: the team already has a connection called `{}`",
                    conn.name
                )
            })?;
        self.audit_by(
            actor,
            "connection.create",
            format!("connection:{}", conn.id),
            Some(format!("team:{team}")),
        )
        .await;
        self.connection_view(conn).await
    }

    pub(crate) async fn save_connection(
        &self,
        actor: &Actor,
        mut conn: Connection,
        action: &str,
    ) -> ServiceResult<ConnectionView> {
        conn.updated_at = now_millis();
        self.store()
            .update_connection(&conn)
            .await
            .or_conflict(|| {
                format!(
                    "name: the team already has a connection called `{}`",
                    conn.name
                )
            })?;
        // Pools of the old settings must not serve the new ones.
        self.engine().forget(conn.id);
        self.audit_by(actor, action, format!("connection:{}", conn.id), None)
            .await;
        self.connection_view(conn).await
    }

    /// Changes a connection (team admin).
    pub async fn update_connection(
        &self,
        actor: &Actor,
        id: ConnectionId,
        req: UpdateConnectionRequest,
    ) -> ServiceResult<ConnectionView> {
        let mut conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        if let Some(name) = req.name {
            conn.name = validate_resource_name("name", &name)?;
        }
        let before = conn.target.clone();
        let mut t = conn.target.clone();
        if req.host.is_some() {
            t.host = req.host;
        }
        if req.port.is_some() {
            t.port = req.port;
        }
        if req.database.is_some() {
            t.database = req.database;
        }
        if req.username.is_some() {
            t.username = req.username;
        }
        let new_path = req.path.is_some();
        if new_path {
            t.path = req.path;
        }
        if let Some(m) = req.ssl_mode {
            t.ssl_mode = m;
        }
        if let Some(ca) = req.ca_certificate {
            t.ca_certificate = Some(ca);
        }
        conn.target = self.validate_target(conn.team_id, t, new_path).await?;
        let reaches_elsewhere = conn.target != before
            || req.schemas.is_some()
            || req.password.is_some()
            || req.clear_password == Some(true);
        let new_password = req.password.clone();
        if req.clear_password == Some(true) {
            conn.encrypted_secret = None;
        }
        if let Some(secret) = self.encrypt_password(conn.target.dialect, req.password)? {
            conn.encrypted_secret = Some(secret);
        }
        if let Some(s) = req.schemas {
            check_list("schemas", &s)?;
            conn.schemas = s;
        }
        if reaches_elsewhere {
            // Pointed somewhere new (or with other credentials or schemas): the same store
            // check as at registration.
            let password = match new_password.filter(|p| !p.expose().is_empty()) {
                Some(p) => Some(p),
                None => self.connection_password(&conn)?,
            };
            self.refuse_store_by_schema(&conn.target, password.as_ref(), &conn.schemas)
                .await?;
        }
        if req.description.is_some() {
            conn.description = clean_text("description", req.description, 4000)?;
        }
        if let Some(s) = req.sample_values {
            conn.sample_values = s;
        }
        self.save_connection(actor, conn, "connection.update").await
    }

    /// Deletes a connection (team admin).
    pub async fn delete_connection(&self, actor: &Actor, id: ConnectionId) -> ServiceResult<()> {
        self.load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        self.store()
            .delete_connection(id)
            .await
            .or_not_found("connection")?;
        self.engine().forget(id);
        // The store dropped its cache entries with it; drop this instance's mirror too.
        if let Err(e) = self.cache_invalidate(id, None).await {
            tracing::warn!(error = %e.detail, connection = %id, "could not clear the cache mirror");
        }
        self.audit_by(actor, "connection.delete", format!("connection:{id}"), None)
            .await;
        Ok(())
    }

    /// Sets the execution mode (team admin).
    pub async fn set_execution_mode(
        &self,
        actor: &Actor,
        id: ConnectionId,
        req: ExecutionModeRequest,
    ) -> ServiceResult<ConnectionView> {
        let mut conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        conn.execution_mode = req.mode;
        self.save_connection(actor, conn, "connection.execution_mode")
            .await
    }

    /// Replaces the privacy policy (team admin).
    pub async fn set_privacy(
        &self,
        actor: &Actor,
        id: ConnectionId,
        policy: PrivacyPolicy,
    ) -> ServiceResult<ConnectionView> {
        validate_privacy(&policy)?;
        let mut conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        conn.privacy = policy;
        let view = self
            .save_connection(actor, conn, "connection.privacy")
            .await?;
        // Samples of what the new policy hides leave the stored snapshot (reads filter by
        // the current policy anyway).
        if let Err(e) = self.strip_stored_samples(id, &view.privacy).await {
            tracing::warn!(error = %e.detail, connection = %id, "could not strip protected samples from the snapshot");
        }
        // Cached SQL is validated again on every use, so it could never leak what the new
        // policy hides; still, answers written under another policy are not kept.
        if let Err(e) = self.cache_invalidate(id, None).await {
            tracing::warn!(error = %e.detail, connection = %id, "could not invalidate the cache");
        }
        Ok(view)
    }

    /// Replaces the limits (team admin).
    pub async fn set_limits(
        &self,
        actor: &Actor,
        id: ConnectionId,
        limits: ConnectionLimits,
    ) -> ServiceResult<ConnectionView> {
        validate_limits(&limits)?;
        let mut conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        conn.limits = limits;
        self.save_connection(actor, conn, "connection.config").await
    }

    async fn run_probe(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
    ) -> TestResult {
        let started = std::time::Instant::now();
        let outcome = self
            .probe()
            .probe(target, password, self.config().connect_timeout)
            .await;
        let elapsed = started.elapsed().as_millis() as u64;
        match outcome {
            Ok(info) => TestResult {
                ok: true,
                dialect: info.dialect,
                server_version: Some(info.server_version),
                latency_ms: info.latency_ms,
                error: None,
            },
            Err(e) => {
                let code = e.code();
                TestResult {
                    ok: false,
                    dialect: target.dialect,
                    server_version: None,
                    latency_ms: elapsed,
                    error: Some(ErrorInfo {
                        code,
                        detail: e.to_string(),
                    }),
                }
            }
        }
    }

    /// Tests settings without saving them (team admin: it opens a network connection).
    pub async fn test_unsaved_connection(
        &self,
        actor: &Actor,
        req: ConnectionRequest,
    ) -> ServiceResult<TestResult> {
        let team = self
            .acting_team(actor, req.team_id, TeamRole::Admin)
            .await?;
        let target = self.validate_target(team, req.target(), true).await?;
        let result = self.run_probe(&target, req.password.as_ref()).await;
        if result.ok {
            // It answered: make sure it is not a Querent metadata store (403 if it is).
            let schemas = req.schemas.clone().unwrap_or_default();
            self.refuse_store_by_schema(&target, req.password.as_ref(), &schemas)
                .await?;
        }
        Ok(result)
    }

    /// Tests a saved connection with its stored credentials.
    pub async fn test_connection(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<TestResult> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        let password = conn
            .encrypted_secret
            .as_deref()
            .map(|c| self.crypto().decrypt(c))
            .transpose()?;
        // A Querent metadata store is refused outright (403), not reported as a failed test.
        self.refuse_own_store_target(&conn.target).await?;
        let result = match self.usable_target(&conn).await {
            Ok(target) => {
                let result = self.run_probe(&target, password.as_ref()).await;
                if result.ok {
                    self.refuse_store_by_schema(&target, password.as_ref(), &conn.schemas)
                        .await?;
                }
                result
            }
            // Outside the SQLite sandbox: not opened at all.
            Err(e) => TestResult {
                ok: false,
                dialect: conn.target.dialect,
                server_version: None,
                latency_ms: 0,
                error: Some(ErrorInfo {
                    code: e.code,
                    detail: e.detail,
                }),
            },
        };
        self.audit_by(
            actor,
            "connection.test",
            format!("connection:{id}"),
            Some(format!("ok={}", result.ok)),
        )
        .await;
        Ok(result)
    }

    /// Registers the demo database as connection `demo` of `team`, unless the team already
    /// has a connection of that name or no demo database is configured.
    pub(crate) async fn register_demo(
        &self,
        team: TeamId,
        actor: &str,
    ) -> ServiceResult<Option<ConnectionView>> {
        let Some(path) = self.config().demo_database.clone() else {
            return Ok(None);
        };
        // Canonical, like every stored SQLite path; off the async runtime.
        let Ok(Some(path)) = tokio::task::spawn_blocking(move || canonical_file(&path)).await
        else {
            return Ok(None);
        };
        let existing = self
            .store()
            .list_connections(&[team], &querent_domain::ports::Page::first(1000))
            .await?;
        if existing.iter().any(|c| c.name == DEMO_CONNECTION_NAME) {
            return Ok(None);
        }
        let now = now_millis();
        let conn = Connection {
            id: ConnectionId::new(),
            team_id: team,
            name: DEMO_CONNECTION_NAME.into(),
            target: ConnectionTarget {
                dialect: Dialect::Sqlite,
                host: None,
                port: None,
                database: None,
                username: None,
                path: Some(path.to_string_lossy().into_owned()),
                ssl_mode: SslMode::Disable,
                ca_certificate: None,
            },
            encrypted_secret: None,
            schemas: Vec::new(),
            description: Some(
                "Demo company generated by Querent: departments, employees, product categories and products, \
                 customers, orders and order items over the last five years."
                    .into(),
            ),
            execution_mode: ExecutionMode::AutoExecute,
            privacy: PrivacyPolicy::default(),
            limits: ConnectionLimits::default(),
            sample_values: true,
            row_filters: Vec::new(),
            created_by: None,
            created_at: now,
            updated_at: now,
        };
        self.store().insert_connection(&conn).await?;
        self.audit(
            actor,
            None,
            "connection.create",
            Some(format!("connection:{}", conn.id)),
            Some("demo".into()),
        )
        .await;
        // Its semantic model, so everyday business words work from the first question.
        if let Err(e) = self.install_demo_model(conn.id).await {
            tracing::warn!(error = %e.detail, "could not save the demo database's semantic model");
        }
        Ok(Some(self.connection_view(conn).await?))
    }

    /// `querent demo`: registers the demo database with the oldest team, if there is one
    /// (on an empty server, first-boot setup does it).
    pub async fn ensure_demo_connection(&self) -> ServiceResult<Option<ConnectionView>> {
        let teams = self
            .store()
            .list_teams(None, &querent_domain::ports::Page::first(1))
            .await?;
        match teams.first() {
            Some(team) => self.register_demo(team.id, "system").await,
            None => Ok(None),
        }
    }
}

/// The canonical path of a regular file, or `None`. Blocking: call it from
/// `spawn_blocking`.
#[allow(clippy::disallowed_methods)] // runs on the blocking pool (see the caller)
pub(crate) fn canonical_file(path: &std::path::Path) -> Option<std::path::PathBuf> {
    std::fs::canonicalize(path).ok().filter(|p| p.is_file())
}
