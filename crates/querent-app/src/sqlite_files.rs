//! SQLite targets live in a sandbox (design §4): a SQLite connection may only point at
//!
//! - a file of the team's own uploads, `<data_dir>/files/<team_id>/` (placed there by
//!   `POST /connections/sqlite-files`); another team's upload folder is refused;
//! - a file under one of the shared directories the operator configured (`sqlite_dirs`,
//!   default `<data_dir>/files/`), which any team admin may register;
//! - the generated demo database.
//!
//! Paths are compared by their canonical form (symlinks, `.` and `..` resolved), and must
//! name a regular file. Querent's own files are never allowed, whatever the configuration
//! says: nothing in the data directory outside `files/` (the embedded store and its WAL and
//! shared-memory files, the master key), the store and key files wherever they are, and no
//! file that looks like a Querent metadata store (another instance's, say).
//!
//! The rules hold at registration *and* every time a connection is used
//! ([`App::usable_target`]): a connection stored before the sandbox existed, or whose file
//! was swapped for a symlink since, is refused when it would be opened. Every check touches
//! the file system, so it runs on the blocking pool.

#![allow(clippy::disallowed_methods)] // the file-system work here runs on the blocking pool (`blocking`, spawn_blocking); async methods only await it

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use querent_domain::{Connection, ConnectionTarget, ErrorCode, TeamId, TeamRole};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, ServiceError, ServiceResult};

/// The folder of the data directory that holds uploaded (and operator-placed) SQLite files.
pub const FILES_DIR: &str = "files";

/// The header every SQLite 3 database file starts with.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// File extensions accepted for uploads.
pub const UPLOAD_EXTENSIONS: &[&str] = &["sqlite", "sqlite3", "db", "db3"];

/// Default largest upload, in bytes (100 MiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Default space one team's upload folder may take, all files together, in bytes (1 GiB:
/// ten uploads of the largest default size).
pub const DEFAULT_TEAM_QUOTA_BYTES: u64 = 1024 * 1024 * 1024;

/// Where SQLite targets may live. Built by the binary from its configuration.
#[derive(Clone, Debug)]
pub struct SqliteSandbox {
    /// Querent's data directory: nothing in it may be a target but `files/` and the demo
    /// database. `None`: no uploads and no team folders (only `shared_dirs`).
    pub data_dir: Option<PathBuf>,
    /// Directories of shared SQLite files any team admin may register (config
    /// `sqlite_dirs`; the binary's default is `<data_dir>/files`).
    pub shared_dirs: Vec<PathBuf>,
    /// The generated demo database (allowed even though it sits in the data directory).
    pub demo_database: Option<PathBuf>,
    /// Files never allowed wherever they are (the embedded store, the key file), with
    /// their `-wal`, `-shm` and `-journal` companions.
    pub protected_files: Vec<PathBuf>,
    /// Largest upload accepted by `POST /connections/sqlite-files`, in bytes.
    pub max_upload_bytes: u64,
    /// Most bytes a team's upload folder may hold (finished files and uploads in progress).
    pub team_quota_bytes: u64,
}

impl Default for SqliteSandbox {
    fn default() -> Self {
        Self {
            data_dir: None,
            shared_dirs: Vec::new(),
            demo_database: None,
            protected_files: Vec::new(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            team_quota_bytes: DEFAULT_TEAM_QUOTA_BYTES,
        }
    }
}

fn canonical(p: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

/// What identifies a file whatever its name: device and inode (so a hard link is the file
/// it links to). `None` where the platform has no inodes or the file is unreadable.
fn file_identity(p: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        None
    }
}

/// A protected file and the companions SQLite writes next to it.
fn with_companions(p: &Path) -> Vec<PathBuf> {
    let mut all = vec![p.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = p.as_os_str().to_owned();
        name.push(suffix);
        all.push(PathBuf::from(name));
    }
    all
}

/// The first part of the file names Querent's metadata store writes (and a file name).
fn is_companion_of(candidate: &Path, protected: &Path) -> bool {
    let (Some(name), Some(dir)) = (protected.file_name(), protected.parent()) else {
        return false;
    };
    // The names first: they need no file system, and a connection's file (checked on every
    // chat) is almost never named like the store, so its folder is rarely resolved.
    let Some(file) = candidate.file_name() else {
        return false;
    };
    let (file, name) = (file.to_string_lossy(), name.to_string_lossy());
    let named_like = file
        .strip_prefix(&*name)
        .is_some_and(|rest| ["", "-wal", "-shm", "-journal"].contains(&rest));
    if !named_like {
        return false;
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    canonical(dir).is_some_and(|dir| candidate.parent() == Some(dir.as_path()))
}

/// How much of a SQLite file [`looks_like_querent_store`] reads: the store's schema (its
/// `CREATE TABLE` text in `sqlite_master`) is written first, by its migrations, so it sits
/// in the first pages.
const SNIFF_BYTES: u64 = 1024 * 1024;

/// Whether the file looks like a Querent metadata store: a SQLite file whose first MiB names
/// the store's tables, judged by the one rule of
/// [`querent_domain::schema::querent_store::looks_like_querent_store`]. Blocking.
///
/// Every use of a SQLite target asks (twice per chat), and reading and scanning the MiB
/// costs tens of milliseconds of CPU: the verdict is kept per file while the file's
/// identity stays the same — device, inode, size, modification time and status-change
/// time (which the kernel sets on any write and no caller can set back), so a file written
/// or replaced since is read again.
pub fn looks_like_querent_store(path: &Path) -> bool {
    use std::sync::{Mutex, OnceLock};
    /// Verdicts per path, with the identity they were read at; bounded.
    static VERDICTS: OnceLock<Mutex<std::collections::HashMap<PathBuf, (FileIdentity, bool)>>> =
        OnceLock::new();
    const MAX_VERDICTS: usize = 1024;
    let Some(identity) = content_identity(path) else {
        return sniff_querent_store(path);
    };
    let verdicts = VERDICTS.get_or_init(Default::default);
    let lock = || {
        verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some((seen, verdict)) = lock().get(path)
        && *seen == identity
    {
        return *verdict;
    }
    let verdict = sniff_querent_store(path);
    // Kept only when the file did not change while it was read.
    if content_identity(path) == Some(identity) {
        let mut map = lock();
        if map.len() >= MAX_VERDICTS {
            map.clear();
        }
        map.insert(path.to_path_buf(), (identity, verdict));
    }
    verdict
}

/// What identifies a file's content for [`looks_like_querent_store`]: device, inode, size,
/// modification and status-change times (ns).
type FileIdentity = (u64, u64, u64, i64, i64, i64, i64);

#[cfg(unix)]
#[allow(clippy::disallowed_methods)] // called on the blocking pool, like the read it saves
fn content_identity(path: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some((
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ))
}

#[cfg(not(unix))]
fn content_identity(_path: &Path) -> Option<FileIdentity> {
    None
}

/// [`looks_like_querent_store`] without the kept verdicts: reads the first MiB.
fn sniff_querent_store(path: &Path) -> bool {
    use querent_domain::schema::querent_store::{
        DIESEL_MIGRATIONS_TABLE, STORE_TABLES, looks_like_querent_store as rule,
    };
    let mut head = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES).read_to_end(&mut head))
        .is_ok();
    if !read || !head.starts_with(SQLITE_MAGIC) {
        return false;
    }
    let named = std::iter::once(DIESEL_MIGRATIONS_TABLE)
        .chain(STORE_TABLES.iter().copied())
        .filter(|name| {
            let name = name.as_bytes();
            head.windows(name.len())
                .any(|w| w.eq_ignore_ascii_case(name))
        });
    rule(named)
}

impl SqliteSandbox {
    /// The folder uploads go to: `<data_dir>/files`.
    pub fn files_dir(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join(FILES_DIR))
    }

    /// The upload folder of a team: `<data_dir>/files/<team_id>`.
    pub fn team_dir(&self, team: TeamId) -> Option<PathBuf> {
        self.files_dir().map(|f| f.join(team.to_string()))
    }

    /// Resolves `path` and decides whether `team` may use it as a SQLite target; returns the
    /// canonical path. Blocking: it reads the file system.
    pub fn resolve(&self, path: &str, team: TeamId) -> ServiceResult<PathBuf> {
        let file = canonical(Path::new(path)).ok_or_else(|| {
            ServiceError::validation(format!("path: `{path}` does not exist or cannot be read"))
        })?;
        if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
            return Err(ServiceError::validation(format!(
                "path: `{path}` is not a regular file"
            )));
        }
        let own_files = || {
            ServiceError::forbidden(
                "path: Querent's own files (its metadata store, key and data directory) cannot \
                 be registered as a connection",
            )
        };
        if self
            .protected_files
            .iter()
            .any(|p| is_companion_of(&file, p))
        {
            return Err(own_files());
        }
        // Compare what the names point at: a hard link has a name of its own, and the same
        // file (device and inode) is also what a protected file's canonical name would
        // find, so that is only compared where there are no inodes (this runs on every
        // chat: each canonical name is a system call per folder of its path).
        let protected = match file_identity(&file) {
            Some(id) => self
                .protected_files
                .iter()
                .flat_map(|p| with_companions(p))
                .any(|p| file_identity(&p) == Some(id)),
            None => self
                .protected_files
                .iter()
                .any(|p| canonical(p).is_some_and(|c| c == file)),
        };
        if protected {
            return Err(own_files());
        }
        if self
            .demo_database
            .as_deref()
            .and_then(canonical)
            .is_some_and(|d| d == file)
        {
            return Ok(file);
        }
        let data_dir = self.data_dir.as_deref().and_then(canonical);
        // `files/` counts only when it is a folder of its own, not the data directory (or an
        // ancestor of it) under another name.
        let files_dir = self
            .files_dir()
            .as_deref()
            .and_then(canonical)
            .filter(|f| !data_dir.as_ref().is_some_and(|d| d.starts_with(f)));
        let in_files = files_dir.as_ref().is_some_and(|f| file.starts_with(f));
        if data_dir.as_ref().is_some_and(|d| file.starts_with(d)) && !in_files {
            return Err(own_files());
        }
        if let Some(files_dir) = files_dir.as_ref().filter(|_| in_files) {
            let rel = file.strip_prefix(files_dir).unwrap_or(&file);
            let mut parts = rel.components();
            if let (Some(Component::Normal(first)), Some(_)) = (parts.next(), parts.next())
                && let Ok(owner) = first.to_string_lossy().parse::<TeamId>()
            {
                if owner == team {
                    return Ok(file);
                }
                return Err(ServiceError::forbidden(
                    "path: this file was uploaded by another team; only that team may use it",
                ));
            }
        }
        if self
            .shared_dirs
            .iter()
            .filter_map(|d| canonical(d))
            .any(|d| file.starts_with(&d))
        {
            return Ok(file);
        }
        Err(ServiceError::forbidden(format!(
            "path: `{path}` is outside the directories SQLite connections may use; upload the \
             file with POST /api/v1/connections/sqlite-files, or ask the operator to add its \
             directory to `sqlite_dirs`"
        )))
    }
}

/// `POST /connections/sqlite-files` query parameters.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SqliteUploadQuery {
    /// File name to store it under: letters, digits, `.`, `_` and `-`, ending in `.sqlite`,
    /// `.sqlite3`, `.db` or `.db3`.
    pub filename: String,
    /// The team whose folder receives it (default: the caller's first team).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, required = false))]
    pub team_id: Option<TeamId>,
}

/// `DELETE /connections/sqlite-files` query parameters.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SqliteFileQuery {
    /// The uploaded file's name (as given when it was uploaded).
    pub filename: String,
    /// The team whose folder holds it (default: the caller's first team).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, required = false))]
    pub team_id: Option<TeamId>,
}

/// An uploaded SQLite file, ready for `POST /connections` with `dialect: sqlite`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SqliteFileView {
    /// Where it was stored (give it as `path` when registering the connection).
    pub path: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// Checks an upload's file name.
pub fn validate_upload_name(name: &str) -> ServiceResult<()> {
    let bad = |why: &str| Err(ServiceError::validation(format!("filename: {why}")));
    if name.is_empty() || name.len() > 128 {
        return bad("must be 1–128 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("only letters, digits, `.`, `_` and `-` (no paths)");
    }
    if name.starts_with('.') || name.starts_with('-') {
        return bad("must not start with `.` or `-`");
    }
    let ext = name
        .rsplit_once('.')
        .map(|(stem, ext)| (stem, ext.to_ascii_lowercase()));
    match ext {
        Some((stem, ext)) if !stem.is_empty() && UPLOAD_EXTENSIONS.contains(&ext.as_str()) => {
            Ok(())
        }
        _ => bad("must end in .sqlite, .sqlite3, .db or .db3"),
    }
}

/// Creates a directory (and its parents) with mode 0700, tightening it if it exists.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        b.mode(0o700);
        b.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    b.create(dir)
}

/// An upload in progress: bytes go to a private temporary file next to the destination;
/// [`App::finish_sqlite_upload`] checks it and moves it into place atomically. Dropped
/// unfinished (client gone, limit exceeded), the temporary file is removed.
#[derive(Debug)]
pub struct SqliteUpload {
    actor: Actor,
    team: TeamId,
    /// The open temporary file (`None` while a write is in flight or once finished).
    file: Option<std::fs::File>,
    /// The temporary file; `None` once moved into place.
    tmp: Option<PathBuf>,
    dest: PathBuf,
    size: u64,
    limit: u64,
    /// The team's quota and what its folder held when the upload began.
    quota: u64,
    used_before: u64,
    head: Vec<u8>,
}

impl SqliteUpload {
    /// Appends a chunk; `payload_too_large` past the limit, `validation_error` as soon as
    /// the start of the file shows it is no SQLite database.
    pub async fn write(&mut self, chunk: Vec<u8>) -> ServiceResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        if self.used_before.saturating_add(self.size) > self.quota {
            return Err(over_quota(self.quota, self.used_before));
        }
        if self.head.len() < SQLITE_MAGIC.len() {
            let need = SQLITE_MAGIC.len() - self.head.len();
            self.head.extend_from_slice(&chunk[..need.min(chunk.len())]);
            if !SQLITE_MAGIC.starts_with(&self.head) {
                return Err(not_sqlite());
            }
        }
        let mut file = self
            .file
            .take()
            .ok_or_else(|| ServiceError::internal("upload written after it was finished"))?;
        let file = blocking(move || {
            use std::io::Write as _;
            file.write_all(&chunk).map_err(ServiceError::internal)?;
            Ok(file)
        })
        .await?;
        self.file = Some(file);
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for SqliteUpload {
    fn drop(&mut self) {
        let Some(tmp) = self.tmp.take() else {
            return;
        };
        drop(self.file.take());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(move || {
                    let _ = std::fs::remove_file(tmp);
                });
            }
            Err(_) => {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

fn too_large(limit: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!("the file is larger than the upload limit of {limit} bytes"),
    )
}

fn over_quota(quota: u64, used: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the team's upload space is full: its files take {used} of {quota} bytes and this \
             file does not fit; delete files it no longer needs (DELETE \
             /api/v1/connections/sqlite-files?filename=…) or ask the operator to raise \
             `sqlite_team_quota_bytes`"
        ),
    )
}

/// Bytes taken by the regular files directly in `dir` (finished uploads and uploads in
/// progress); 0 when it does not exist. Blocking.
fn folder_usage(dir: &Path) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut total = 0u64;
    for entry in entries {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total = total.saturating_add(meta.len());
        }
    }
    Ok(total)
}

fn not_sqlite() -> ServiceError {
    ServiceError::validation(
        "body: not a SQLite 3 database (it must start with the header `SQLite format 3`); \
         send the file itself as the raw body (Content-Type: application/octet-stream)",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ServiceResult<T> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ServiceError::internal)?
}

impl App {
    /// Resolves a SQLite path for `team` (canonical, inside the sandbox, not one of
    /// Querent's files), off the async runtime.
    pub(crate) async fn sqlite_path_for(&self, team: TeamId, path: &str) -> ServiceResult<String> {
        let sandbox = self.config().sqlite.clone();
        let path = path.to_owned();
        blocking(move || {
            let file = sandbox.resolve(&path, team)?;
            if looks_like_querent_store(&file) {
                return Err(crate::own_store::own_store_refused());
            }
            Ok(file.to_string_lossy().into_owned())
        })
        .await
    }

    /// The target to open for a connection, checked again now: a SQLite file must still be
    /// inside the sandbox (it may have been registered before the sandbox existed, or
    /// replaced by a link since) and must not be a Querent metadata store (a copy swapped in
    /// after registration); a PostgreSQL target must not be the server's own store. Returns
    /// the target with the file's canonical path.
    pub async fn usable_target(&self, conn: &Connection) -> ServiceResult<ConnectionTarget> {
        let mut target = conn.target.clone();
        let cannot_use = |e: ServiceError| {
            ServiceError::new(
                e.code,
                format!(
                    "connection `{}` cannot be used: {} (fix it with PATCH \
                     /api/v1/connections/{})",
                    conn.name, e.detail, conn.id
                ),
            )
        };
        if !target.dialect.is_file_based() {
            self.refuse_own_store_target(&target)
                .await
                .map_err(cannot_use)?;
            return Ok(target);
        }
        let path = target.path.clone().unwrap_or_default();
        let sandbox = self.config().sqlite.clone();
        let team = conn.team_id;
        // One trip to the blocking pool for both file checks (the sandbox's and the
        // store's): each trip wakes a pool thread and then this task again.
        let checked = blocking(move || {
            let file = sandbox.resolve(&path, team)?;
            let own_store = looks_like_querent_store(&file);
            Ok((file, own_store))
        })
        .await;
        let (resolved, own_store) = checked.map_err(|e| {
            ServiceError::new(
                e.code,
                format!(
                    "connection `{}` cannot be used: {} (fix its path with PATCH \
                         /api/v1/connections/{})",
                    conn.name, e.detail, conn.id
                ),
            )
        })?;
        if own_store {
            return Err(cannot_use(crate::own_store::own_store_refused()));
        }
        target.path = Some(resolved.to_string_lossy().into_owned());
        Ok(target)
    }

    /// Starts an upload into the team's folder (team admin): checks the name, the declared
    /// size and that no file of that name exists yet, and opens a private temporary file.
    pub async fn begin_sqlite_upload(
        &self,
        actor: &Actor,
        query: SqliteUploadQuery,
        declared_len: Option<u64>,
    ) -> ServiceResult<SqliteUpload> {
        let team = self
            .acting_team(actor, query.team_id, TeamRole::Admin)
            .await?;
        validate_upload_name(&query.filename)?;
        let sandbox = &self.config().sqlite;
        let limit = sandbox.max_upload_bytes;
        if declared_len.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let dir = sandbox.team_dir(team).ok_or_else(|| {
            ServiceError::new(
                ErrorCode::Unavailable,
                "this server has no data directory for uploads",
            )
        })?;
        let dest = dir.join(&query.filename);
        let tmp = dir.join(format!(".upload-{}.tmp", uuid::Uuid::now_v7().simple()));
        let quota = sandbox.team_quota_bytes;
        let (dir2, dest2, tmp2) = (dir.clone(), dest.clone(), tmp.clone());
        let (file, used_before) = blocking(move || {
            if let Some(files) = dir2.parent() {
                private_dir(files).map_err(ServiceError::internal)?;
            }
            private_dir(&dir2).map_err(ServiceError::internal)?;
            if dest2.exists() {
                return Err(ServiceError::conflict(format!(
                    "filename: the team already has a file called `{}`; choose another name",
                    dest2.file_name().unwrap_or_default().to_string_lossy()
                )));
            }
            let used = folder_usage(&dir2).map_err(ServiceError::internal)?;
            if used.saturating_add(declared_len.unwrap_or(1)) > quota {
                return Err(over_quota(quota, used));
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            let file = opts.open(&tmp2).map_err(ServiceError::internal)?;
            Ok((file, used))
        })
        .await?;
        Ok(SqliteUpload {
            actor: actor.clone(),
            team,
            file: Some(file),
            tmp: Some(tmp),
            dest,
            size: 0,
            limit,
            quota,
            used_before,
            head: Vec::new(),
        })
    }

    /// Deletes an uploaded file from the team's folder (team admin of that team), freeing
    /// its share of the quota. Refused with `conflict` while a connection of the team uses
    /// it: deleting it would break that connection — and a later upload under the same
    /// name would silently become that connection's data, under a privacy policy and a
    /// schema snapshot written for the old file. Delete (or re-point) the connections
    /// first. (A connection registered at the very moment of the deletion finds the file
    /// gone when it is used, and says so.)
    pub async fn delete_sqlite_file(
        &self,
        actor: &Actor,
        query: SqliteFileQuery,
    ) -> ServiceResult<()> {
        let team = self
            .acting_team(actor, query.team_id, TeamRole::Admin)
            .await?;
        validate_upload_name(&query.filename)?;
        let dir = self.config().sqlite.team_dir(team).ok_or_else(|| {
            ServiceError::new(
                ErrorCode::Unavailable,
                "this server has no data directory for uploads",
            )
        })?;
        let candidate = dir.join(&query.filename);
        // Stored SQLite paths are canonical: compare in that form.
        let file = blocking(move || {
            let meta = std::fs::symlink_metadata(&candidate);
            match (meta, canonical(&candidate)) {
                (Ok(m), Some(c)) if m.is_file() => Ok(c),
                _ => Err(ServiceError::not_found("file")),
            }
        })
        .await?;
        let shown = file.to_string_lossy().into_owned();
        let mut users = Vec::new();
        let mut page = querent_domain::ports::Page::first(500);
        loop {
            let rows = self.store().list_connections(&[team], &page).await?;
            let last = rows.last().map(|c| c.id.to_string());
            users.extend(
                rows.into_iter()
                    .filter(|c| {
                        c.target.dialect.is_file_based()
                            && c.target.path.as_deref() == Some(shown.as_str())
                    })
                    .map(|c| format!("`{}`", c.name)),
            );
            match last {
                Some(id) => page.after = Some(id),
                None => break,
            }
        }
        if !users.is_empty() {
            return Err(ServiceError::conflict(format!(
                "filename: `{}` is used by connection {}; delete those connections or point \
                 them at another file first",
                query.filename,
                users.join(", ")
            )));
        }
        let removed = file.clone();
        blocking(move || {
            std::fs::remove_file(&removed).map_err(ServiceError::internal)?;
            // Companions SQLite may have left next to it.
            for companion in with_companions(&removed).into_iter().skip(1) {
                let _ = std::fs::remove_file(companion);
            }
            Ok(())
        })
        .await?;
        self.audit_by(
            actor,
            "connection.sqlite_delete",
            format!("team:{team}"),
            Some(shown),
        )
        .await;
        Ok(())
    }

    /// Ends an upload: the file must be a SQLite database; it is flushed and moved into
    /// place (never over an existing file), mode 0600.
    pub async fn finish_sqlite_upload(
        &self,
        mut upload: SqliteUpload,
    ) -> ServiceResult<SqliteFileView> {
        if upload.head.as_slice() != SQLITE_MAGIC.as_slice() || upload.size < 100 {
            return Err(not_sqlite());
        }
        let file = upload
            .file
            .take()
            .ok_or_else(|| ServiceError::internal("upload finished twice"))?;
        let tmp = upload
            .tmp
            .clone()
            .ok_or_else(|| ServiceError::internal("upload finished twice"))?;
        let dest = upload.dest.clone();
        let quota = upload.quota;
        let path = blocking(move || {
            file.sync_all().map_err(ServiceError::internal)?;
            drop(file);
            // Uploads running side by side each fit alone; together they may not. The folder
            // now holds this file (as its temporary) and every other one in progress.
            if let Some(dir) = tmp.parent() {
                let used = folder_usage(dir).map_err(ServiceError::internal)?;
                if used > quota {
                    let this = std::fs::metadata(&tmp).map(|m| m.len()).unwrap_or(0);
                    return Err(over_quota(quota, used.saturating_sub(this)));
                }
            }
            // A hard link never replaces an existing file: two uploads of one name race
            // safely, and a file in use by a connection is never swapped under it.
            match std::fs::hard_link(&tmp, &dest) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(ServiceError::conflict(format!(
                        "filename: the team already has a file called `{}`; choose another name",
                        dest.file_name().unwrap_or_default().to_string_lossy()
                    )));
                }
                Err(e) => return Err(ServiceError::internal(e)),
            }
            let _ = std::fs::remove_file(&tmp);
            std::fs::canonicalize(&dest).map_err(ServiceError::internal)
        })
        .await?;
        // Moved into place: nothing left to clean up.
        upload.tmp = None;
        let view = SqliteFileView {
            path: path.to_string_lossy().into_owned(),
            size_bytes: upload.size,
        };
        self.audit_by(
            &upload.actor,
            "connection.sqlite_upload",
            format!("team:{}", upload.team),
            Some(format!("{} ({} bytes)", view.path, view.size_bytes)),
        )
        .await;
        Ok(view)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    struct Fixture {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        sandbox: SqliteSandbox,
        team: TeamId,
        other: TeamId,
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let data = root.join("data");
        for f in [
            "querent.db",
            "querent.db-wal",
            "querent.db-shm",
            "master.key",
            "demo.sqlite",
            "other.sqlite",
            "files/shared.sqlite",
        ] {
            touch(&data.join(f));
        }
        let (team, other) = (TeamId::new(), TeamId::new());
        touch(&data.join(format!("files/{team}/mine.sqlite")));
        touch(&data.join(format!("files/{other}/theirs.sqlite")));
        touch(&root.join("elsewhere/x.sqlite"));
        touch(&root.join("shared2/y.sqlite"));
        let sandbox = SqliteSandbox {
            data_dir: Some(data.clone()),
            shared_dirs: vec![data.join("files"), root.join("shared2")],
            demo_database: Some(data.join("demo.sqlite")),
            protected_files: vec![data.join("querent.db"), data.join("master.key")],
            max_upload_bytes: 1000,
            team_quota_bytes: 10_000,
        };
        Fixture {
            _tmp: tmp,
            root,
            sandbox,
            team,
            other,
        }
    }

    fn decide(f: &Fixture, path: &Path) -> Result<PathBuf, ErrorCode> {
        f.sandbox
            .resolve(&path.to_string_lossy(), f.team)
            .map_err(|e| e.code)
    }

    #[test]
    fn allowed_files_resolve_to_their_canonical_path() {
        let f = fixture();
        let data = f.root.join("data");
        for ok in [
            data.join("demo.sqlite"),
            data.join("files/shared.sqlite"),
            data.join(format!("files/{}/mine.sqlite", f.team)),
            data.join(format!("files/{}/../{}/mine.sqlite", f.other, f.team)),
            data.join("./files/./shared.sqlite"),
            f.root.join("shared2/y.sqlite"),
        ] {
            let got = decide(&f, &ok).unwrap_or_else(|c| panic!("{}: {c}", ok.display()));
            assert_eq!(got, std::fs::canonicalize(&ok).unwrap());
        }
    }

    #[test]
    fn querent_files_other_teams_and_outside_paths_are_refused() {
        let f = fixture();
        let data = f.root.join("data");
        for (bad, code) in [
            (data.join("querent.db"), ErrorCode::Forbidden),
            (data.join("querent.db-wal"), ErrorCode::Forbidden),
            (data.join("querent.db-shm"), ErrorCode::Forbidden),
            (data.join("master.key"), ErrorCode::Forbidden),
            (data.join("files/../querent.db"), ErrorCode::Forbidden),
            (data.join("other.sqlite"), ErrorCode::Forbidden),
            (
                data.join(format!("files/{}/theirs.sqlite", f.other)),
                ErrorCode::Forbidden,
            ),
            (
                data.join(format!("files/{}/../{}/theirs.sqlite", f.team, f.other)),
                ErrorCode::Forbidden,
            ),
            (f.root.join("elsewhere/x.sqlite"), ErrorCode::Forbidden),
            (data.join("files"), ErrorCode::ValidationError),
            (
                data.join("files/missing.sqlite"),
                ErrorCode::ValidationError,
            ),
        ] {
            assert_eq!(decide(&f, &bad).err(), Some(code), "{}", bad.display());
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_before_deciding() {
        let f = fixture();
        let data = f.root.join("data");
        let shared = data.join("files");
        std::os::unix::fs::symlink(data.join("querent.db"), shared.join("store.sqlite")).unwrap();
        std::os::unix::fs::symlink(f.root.join("elsewhere/x.sqlite"), shared.join("x.sqlite"))
            .unwrap();
        std::os::unix::fs::symlink(
            data.join(format!("files/{}/theirs.sqlite", f.other)),
            shared.join("theirs.sqlite"),
        )
        .unwrap();
        for bad in ["store.sqlite", "x.sqlite", "theirs.sqlite"] {
            assert_eq!(
                decide(&f, &shared.join(bad)).err(),
                Some(ErrorCode::Forbidden),
                "{bad}"
            );
        }
        // A data directory configured as a shared directory still protects the store.
        let mut wide = f.sandbox.clone();
        wide.shared_dirs.push(data.clone());
        wide.shared_dirs.push(f.root.clone());
        for bad in ["querent.db", "querent.db-wal", "master.key", "other.sqlite"] {
            assert_eq!(
                wide.resolve(&data.join(bad).to_string_lossy(), f.team)
                    .err()
                    .map(|e| e.code),
                Some(ErrorCode::Forbidden),
                "{bad}"
            );
        }
        // So does a `files` folder that is a link back to the data directory.
        std::fs::remove_dir_all(&shared).unwrap();
        std::os::unix::fs::symlink(&data, &shared).unwrap();
        assert_eq!(
            decide(&f, &shared.join("other.sqlite")).err(),
            Some(ErrorCode::Forbidden)
        );
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_to_protected_files_are_refused() {
        let f = fixture();
        let data = f.root.join("data");
        let shared = data.join("files");
        let team_dir = data.join(format!("files/{}", f.team));
        // A hard link has a name of its own inside the sandbox; it is the same file.
        for (target, link) in [
            ("querent.db", shared.join("store.sqlite")),
            ("querent.db-wal", shared.join("wal.sqlite")),
            ("master.key", team_dir.join("key.sqlite")),
        ] {
            std::fs::hard_link(data.join(target), &link).unwrap();
            assert_eq!(
                decide(&f, &link).err(),
                Some(ErrorCode::Forbidden),
                "{}",
                link.display()
            );
        }
        // An ordinary file next to them is fine.
        assert!(decide(&f, &shared.join("shared.sqlite")).is_ok());
    }

    #[test]
    fn a_querent_store_is_recognised_by_its_tables() {
        let tmp = tempfile::tempdir().unwrap();
        let with = |names: &[&str]| {
            let mut bytes = SQLITE_MAGIC.to_vec();
            bytes.extend_from_slice(&[0; 100]);
            for m in names {
                bytes.extend_from_slice(b"CREATE TABLE ");
                bytes.extend_from_slice(m.as_bytes());
            }
            bytes
        };
        let store = tmp.path().join("s.db");
        std::fs::write(
            &store,
            with(&[
                "__diesel_schema_migrations",
                "users",
                "refresh_tokens",
                "login_failures",
            ]),
        )
        .unwrap();
        assert!(looks_like_querent_store(&store));
        let plain = tmp.path().join("p.db");
        std::fs::write(&plain, with(&["__diesel_schema_migrations", "users"])).unwrap();
        assert!(!looks_like_querent_store(&plain));
        // Not a SQLite file at all.
        let text = tmp.path().join("t.db");
        std::fs::write(
            &text,
            b"__diesel_schema_migrations users refresh_tokens api_clients",
        )
        .unwrap();
        assert!(!looks_like_querent_store(&text));
        // The verdict is kept while the file stays the same, and read again once it is
        // written or replaced.
        assert!(!looks_like_querent_store(&plain));
        let store_bytes = std::fs::read(&store).unwrap();
        std::fs::write(&plain, &store_bytes).unwrap();
        assert!(looks_like_querent_store(&plain));
        std::fs::write(&plain, with(&["__diesel_schema_migrations", "users"])).unwrap();
        assert!(!looks_like_querent_store(&plain));
        std::fs::rename(&store, &plain).unwrap();
        assert!(looks_like_querent_store(&plain));
    }

    #[test]
    fn upload_names_are_plain_file_names() {
        for ok in ["sales.sqlite", "a.db", "Q3_report-v2.sqlite3", "x.DB3"] {
            assert!(validate_upload_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x.sqlite",
            "a/b.sqlite",
            "a\\b.sqlite",
            ".hidden.sqlite",
            "-x.sqlite",
            "x.txt",
            ".sqlite",
            "x",
            "é.sqlite",
            "a b.sqlite",
        ] {
            assert!(validate_upload_name(bad).is_err(), "{bad}");
        }
        assert!(validate_upload_name(&format!("{}.db", "a".repeat(130))).is_err());
    }
}
