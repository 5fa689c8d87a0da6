//! Functions the guard refuses, per dialect. Names are compared case-insensitively
//! against the last part of the (possibly schema-qualified) function name.

use querent_domain::Dialect;

/// PostgreSQL: file access, sleeping, large objects, remote queries, settings, sequences
/// (writes), advisory locks, backend control, and functions that run arbitrary SQL text.
const POSTGRES_DENIED: &[&str] = &[
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "set_config",
    "nextval",
    "setval",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "txid_current",
    "txid_current_if_assigned",
    "pg_notify",
];

/// PostgreSQL prefixes: every function starting with one of these is refused.
const POSTGRES_DENIED_PREFIXES: &[&str] = &[
    // large objects: lo_import, lo_export, lo_get, lo_put, …
    "lo_",
    // dblink, dblink_exec, dblink_connect, …: queries on other servers
    "dblink",
    // query_to_xml & co. execute the SQL text they are given
    "query_to_xml",
    "cursor_to_xml",
    "table_to_xml",
    "schema_to_xml",
    "database_to_xml",
    "binary_upgrade_",
];

/// MySQL/MariaDB: sleeping, CPU burning, file access, named locks, replication waits and
/// the well-known UDFs that run shell commands.
const MYSQL_DENIED: &[&str] = &[
    "sleep",
    "benchmark",
    "load_file",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "is_free_lock",
    "is_used_lock",
    "master_pos_wait",
    "source_pos_wait",
    "wait_for_executed_gtid_set",
    "wait_until_sql_thread_after_gtids",
    "sys_exec",
    "sys_eval",
    "sys_get",
    "sys_set",
];

/// SQLite: extension loading, file access (fileio/zipfile/fsdir), the FTS3 tokenizer
/// pointer trick, the shell's editor hook, and large allocations.
const SQLITE_DENIED: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "fts3_tokenizer",
    "edit",
    "fsdir",
    "zipfile",
    "sqlar_uncompress",
    "randomblob",
    "zeroblob",
];

/// In every dialect, functions named `pg_*` are refused (PostgreSQL's admin and catalog
/// functions), except these harmless ones.
const PG_PREFIX_ALLOWED: &[&str] = &[
    "pg_typeof",
    "pg_size_pretty",
    "pg_column_size",
    "pg_client_encoding",
];

/// Whether the function (last name part) is refused in this dialect.
pub(crate) fn is_denied(dialect: Dialect, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.starts_with("pg_") && !PG_PREFIX_ALLOWED.contains(&name.as_str()) {
        return true;
    }
    match dialect {
        Dialect::Postgres => {
            POSTGRES_DENIED.contains(&name.as_str())
                || POSTGRES_DENIED_PREFIXES.iter().any(|p| name.starts_with(p))
        }
        Dialect::Mysql => MYSQL_DENIED.contains(&name.as_str()),
        Dialect::Sqlite => SQLITE_DENIED.contains(&name.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert!(is_denied(Dialect::Postgres, "PG_SLEEP"));
        assert!(is_denied(Dialect::Postgres, "lo_import"));
        assert!(is_denied(Dialect::Postgres, "dblink_exec"));
        assert!(!is_denied(Dialect::Postgres, "lower"));
        assert!(!is_denied(Dialect::Postgres, "pg_typeof"));
        assert!(is_denied(Dialect::Mysql, "pg_sleep"));
        assert!(is_denied(Dialect::Mysql, "Sleep"));
        assert!(!is_denied(Dialect::Mysql, "count"));
        assert!(is_denied(Dialect::Sqlite, "load_extension"));
        assert!(!is_denied(Dialect::Sqlite, "strftime"));
    }
}
