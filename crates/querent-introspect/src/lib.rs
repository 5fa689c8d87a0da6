//! # querent-introspect
//!
//! Reads the catalogs of a target database (PostgreSQL `information_schema`/`pg_catalog`,
//! MySQL/MariaDB `information_schema`, SQLite `sqlite_schema` and `PRAGMA`s) into a
//! [`SchemaSnapshot`]: tables and views, their columns, primary and foreign keys, comments,
//! and sampled values of low-cardinality columns. Each snapshot carries a fingerprint so
//! that the semantic model, the cache and drift reports can tell when the live schema
//! changed (design §1, §8).
//!
//! Depends on: querent-domain (for `Dialect`), serde. The snapshot is plain data, stored as
//! JSON in the metadata store and read by querent-sql (existence checks), querent-semantic
//! (linking, drafts, drift) and querent-offline (translation).
//!
//! Must never: write to a target database, read table contents beyond bounded samples of
//! low-cardinality columns (and never of excluded or masked columns), or depend on
//! querent-app, querent-http or the metadata store.
//!
//! Status: public types only; behaviour arrives with issue 4.

use querent_domain::{Dialect, UnixMillis};
use serde::{Deserialize, Serialize};

/// Everything Querent knows about one target database's structure at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSnapshot {
    /// The dialect the catalog was read with.
    pub dialect: Dialect,
    /// The database (catalog) name, when the dialect has one.
    #[serde(default)]
    pub database: Option<String>,
    /// A stable hash of the structure (tables, columns, types, keys), independent of
    /// comments, samples and read order: equal fingerprints mean the same schema.
    pub fingerprint: String,
    /// When the catalog was read.
    pub taken_at: UnixMillis,
    /// Tables and views, in catalog order.
    pub tables: Vec<TableInfo>,
}

/// Whether a relation is a base table or a kind of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// A base table.
    Table,
    /// A view.
    View,
    /// A materialized view (PostgreSQL).
    MaterializedView,
}

/// One table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Schema (PostgreSQL) or database (MySQL) name; `None` for SQLite's main database.
    #[serde(default)]
    pub schema: Option<String>,
    /// Table name as the catalog spells it.
    pub name: String,
    /// Table, view or materialized view.
    pub kind: TableKind,
    /// The catalog comment, if any.
    #[serde(default)]
    pub comment: Option<String>,
    /// Columns in ordinal order.
    pub columns: Vec<ColumnInfo>,
    /// Primary key column names, in key order (empty when there is none).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Foreign keys declared on this table.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// The catalog's row count estimate, when it keeps one.
    #[serde(default)]
    pub row_estimate: Option<u64>,
}

/// One column of a table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name as the catalog spells it.
    pub name: String,
    /// The declared type as the database names it (e.g. `integer`, `varchar(40)`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The catalog comment, if any.
    #[serde(default)]
    pub comment: Option<String>,
    /// Distinct values sampled from a low-cardinality column (empty when not sampled,
    /// when sampling is off for the connection, or when the column is excluded or masked).
    #[serde(default)]
    pub sample_values: Vec<String>,
}

/// A foreign key from some columns of one table to columns of another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name, when the catalog has one.
    #[serde(default)]
    pub name: Option<String>,
    /// Referencing columns of the owning table, in key order.
    pub columns: Vec<String>,
    /// Schema of the referenced table (`None`: same as the owning table, or SQLite).
    #[serde(default)]
    pub referenced_schema: Option<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// Referenced columns, in the same order as `columns`.
    pub referenced_columns: Vec<String>,
}
