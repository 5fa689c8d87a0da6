//! Recognising a Querent metadata store (this instance's or another's) by its tables, so
//! that it is never registered, read or queried as a target database: it holds password
//! hashes, refresh tokens, API-client secrets and every team's chats. This is the one rule;
//! the services apply it to every schema they read ([`SchemaSnapshot::looks_like_querent_store`])
//! and to the table names found in a SQLite file's header.

use super::SchemaSnapshot;

/// The table diesel records applied migrations in; every Querent store has it.
pub const DIESEL_MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// The tables of Querent's metadata store (`migrations/{sqlite,postgres}`).
pub const STORE_TABLES: &[&str] = &[
    "users",
    "teams",
    "team_members",
    "refresh_tokens",
    "api_clients",
    "connections",
    "audit_log",
    "login_failures",
    "settings",
    "schema_snapshots",
    "chat_sessions",
    "messages",
    "provider_configs",
    "semantic_models",
    "cache_entries",
    "cache_counters",
    "examples",
];

/// Store tables whose names an ordinary application database hardly ever has together.
pub const DISTINCTIVE_STORE_TABLES: &[&str] = &[
    "refresh_tokens",
    "api_clients",
    "login_failures",
    "schema_snapshots",
    "provider_configs",
    "semantic_models",
    "cache_entries",
    "cache_counters",
];

/// With diesel's migration table, this many of [`STORE_TABLES`] make a store.
pub const WITH_MIGRATIONS_AT_LEAST: usize = 3;
/// Without it, this many of [`DISTINCTIVE_STORE_TABLES`] do.
pub const DISTINCTIVE_AT_LEAST: usize = 4;

/// Whether the tables of *one* schema (or SQLite file) are those of a Querent metadata
/// store: diesel's migration table and at least [`WITH_MIGRATIONS_AT_LEAST`] store tables,
/// or at least [`DISTINCTIVE_AT_LEAST`] of the distinctive ones. Names compare without
/// regard to case (MySQL on case-insensitive file systems, quoted PostgreSQL names).
pub fn looks_like_querent_store<'a>(tables: impl IntoIterator<Item = &'a str>) -> bool {
    let mut migrations = false;
    let mut store = std::collections::BTreeSet::new();
    let mut distinctive = std::collections::BTreeSet::new();
    for t in tables {
        let t = t.to_ascii_lowercase();
        if t == DIESEL_MIGRATIONS_TABLE {
            migrations = true;
        }
        if let Some(s) = STORE_TABLES.iter().find(|s| **s == t) {
            store.insert(*s);
        }
        if let Some(s) = DISTINCTIVE_STORE_TABLES.iter().find(|s| **s == t) {
            distinctive.insert(*s);
        }
    }
    (migrations && store.len() >= WITH_MIGRATIONS_AT_LEAST)
        || distinctive.len() >= DISTINCTIVE_AT_LEAST
}

impl SchemaSnapshot {
    /// Whether any schema of the snapshot is a Querent metadata store (see
    /// [`looks_like_querent_store`]); tables are grouped by schema, since a store's
    /// tables live in one.
    pub fn looks_like_querent_store(&self) -> bool {
        let mut by_schema: std::collections::BTreeMap<Option<&str>, Vec<&str>> = Default::default();
        for t in &self.tables {
            by_schema
                .entry(t.schema.as_deref())
                .or_default()
                .push(t.name.as_str());
        }
        by_schema.into_values().any(looks_like_querent_store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::schema::{TableInfo, TableKind};

    fn table(schema: Option<&str>, name: &str) -> TableInfo {
        TableInfo {
            schema: schema.map(str::to_owned),
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: None,
        }
    }

    fn snapshot(tables: &[(Option<&str>, &str)]) -> SchemaSnapshot {
        SchemaSnapshot {
            dialect: Dialect::Postgres,
            database: None,
            fingerprint: String::new(),
            taken_at: 0,
            tables: tables.iter().map(|(s, n)| table(*s, n)).collect(),
        }
    }

    #[test]
    fn stores_are_recognised_by_their_tables() {
        let all: Vec<&str> = std::iter::once(DIESEL_MIGRATIONS_TABLE)
            .chain(STORE_TABLES.iter().copied())
            .collect();
        assert!(looks_like_querent_store(all.iter().copied()));
        assert!(looks_like_querent_store([
            "__DIESEL_SCHEMA_MIGRATIONS",
            "Users",
            "refresh_tokens",
            "team_members"
        ]));
        // Without the migration table (dropped, or a partial copy), the distinctive ones.
        assert!(looks_like_querent_store([
            "refresh_tokens",
            "api_clients",
            "login_failures",
            "schema_snapshots"
        ]));
        // Ordinary databases with a few of the generic names are not stores.
        assert!(!looks_like_querent_store([
            "users",
            "teams",
            "team_members",
            "messages",
            "settings",
            "connections",
            "audit_log",
            "examples"
        ]));
        assert!(!looks_like_querent_store([
            DIESEL_MIGRATIONS_TABLE,
            "users",
            "posts"
        ]));
        assert!(!looks_like_querent_store(Vec::<&str>::new()));
    }

    #[test]
    fn snapshots_are_judged_schema_by_schema() {
        let store = snapshot(&[
            (Some("public"), DIESEL_MIGRATIONS_TABLE),
            (Some("public"), "users"),
            (Some("public"), "refresh_tokens"),
            (Some("public"), "api_clients"),
            (Some("sales"), "orders"),
        ]);
        assert!(store.looks_like_querent_store());
        let split = snapshot(&[
            (Some("a"), DIESEL_MIGRATIONS_TABLE),
            (Some("a"), "users"),
            (Some("b"), "refresh_tokens"),
            (Some("c"), "api_clients"),
        ]);
        assert!(!split.looks_like_querent_store());
        let sqlite = snapshot(&[
            (None, DIESEL_MIGRATIONS_TABLE),
            (None, "users"),
            (None, "team_members"),
            (None, "refresh_tokens"),
        ]);
        assert!(sqlite.looks_like_querent_store());
    }
}
