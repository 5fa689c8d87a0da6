//! Querent's files at rest: the data directory is private to the server's user (0700), and
//! so are the files in it that hold secrets or data — the embedded store with its WAL and
//! shared-memory files (result previews, samples, password hashes), the demo database, the
//! master key (0600). New files are created with those modes; an existing install is
//! tightened at start.
//!
//! SQLite creates a database's `-wal`, `-shm` and `-journal` files with the permissions of
//! the database file, so the store file is created (empty, 0600) before SQLite opens it.

#![allow(clippy::disallowed_methods)] // start-up code: runs before the server takes requests

use std::path::Path;

use crate::Config;

/// Mode of the data directory and of the folders in it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files in it.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700 where it does not exist; an existing
/// directory is left as it is (see [`tighten`]).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(DIR_MODE);
    }
    b.create(dir)
}

/// Creates an empty file with mode 0600 unless it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(FILE_MODE);
    }
    opts.open(path).map(drop)
}

/// Removes group and other permissions from an existing file or directory (to `mode`);
/// returns the old mode when it changed anything. Missing paths are fine. A sticky
/// directory (like `/tmp`, shared by design) is never changed.
#[cfg(unix)]
pub fn tighten(path: &Path, mode: u32) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // A link is not followed: its target is not Querent's to change.
    if meta.file_type().is_symlink() {
        return Ok(None);
    }
    let old = meta.permissions().mode() & 0o7777;
    if old & 0o077 == 0 || (meta.is_dir() && old & 0o1000 != 0) {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(Some(old))
}

/// Without Unix permissions there is nothing to tighten.
#[cfg(not(unix))]
pub fn tighten(_path: &Path, _mode: u32) -> std::io::Result<Option<u32>> {
    Ok(None)
}

fn tighten_logged(path: &Path, mode: u32) {
    match tighten(path, mode) {
        Ok(Some(old)) => tracing::warn!(
            path = %path.display(),
            "tightened permissions from {old:o} to {mode:o}"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(
            path = %path.display(),
            error = %e,
            "could not tighten permissions"
        ),
    }
}

/// Prepares the data directory before the keyring and the store open: creates it 0700 (and
/// the `files/` folder), creates the embedded store file 0600 so its WAL and shared memory
/// inherit that, and tightens what an older version left readable by others.
pub fn prepare_data_dir(config: &Config) -> Result<(), String> {
    let dir = &config.data_dir;
    create_private_dir(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    tighten_logged(dir, DIR_MODE);
    let files = config.files_dir();
    create_private_dir(&files).map_err(|e| {
        format!(
            "cannot create the SQLite files folder {}: {e}",
            files.display()
        )
    })?;
    tighten_logged(&files, DIR_MODE);
    if config.database_url.is_none() {
        let store = config.sqlite_store_path();
        create_private_file(&store)
            .map_err(|e| format!("cannot create the store file {}: {e}", store.display()))?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            tighten_logged(
                Path::new(&format!("{}{suffix}", store.display())),
                FILE_MODE,
            );
        }
    }
    tighten_logged(&config.demo_database_path(), FILE_MODE);
    tighten_logged(&config.key_file_path(), FILE_MODE);
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_fresh_data_dir_is_private_and_an_old_one_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: tmp.path().join("a/data"),
            ..Config::default()
        };
        prepare_data_dir(&config).unwrap();
        assert_eq!(mode(&config.data_dir), 0o700);
        assert_eq!(mode(&config.files_dir()), 0o700);
        assert_eq!(mode(&config.sqlite_store_path()), 0o600);

        // An install from before: world-readable files in a 0755 directory.
        let wal = config.data_dir.join("querent.db-wal");
        for (p, m) in [
            (config.data_dir.clone(), 0o755),
            (config.sqlite_store_path(), 0o644),
            (wal.clone(), 0o644),
            (config.demo_database_path(), 0o644),
            (config.key_file_path(), 0o640),
        ] {
            if !p.exists() {
                std::fs::write(&p, b"").unwrap();
            }
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
        }
        prepare_data_dir(&config).unwrap();
        assert_eq!(mode(&config.data_dir), 0o700);
        for p in [
            config.sqlite_store_path(),
            wal,
            config.demo_database_path(),
            config.key_file_path(),
        ] {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }

    #[test]
    fn shared_sticky_directories_and_links_are_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let sticky = tmp.path().join("shared");
        std::fs::create_dir(&sticky).unwrap();
        std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(tighten(&sticky, DIR_MODE).unwrap(), None);
        assert_eq!(mode(&sticky), 0o1777);
        let target = tmp.path().join("t");
        std::fs::write(&target, b"").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = tmp.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(tighten(&link, FILE_MODE).unwrap(), None);
        assert_eq!(mode(&target), 0o644);
        assert_eq!(
            tighten(&tmp.path().join("missing"), FILE_MODE).unwrap(),
            None
        );
    }
}
