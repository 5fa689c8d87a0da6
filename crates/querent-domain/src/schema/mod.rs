//! The structure of a target database as Querent knows it: [`SchemaSnapshot`] and its
//! parts, plain data shared by the introspector (which fills it), the store (which keeps
//! it) and the services (which serve it and link questions to it).

use serde::{Deserialize, Serialize};

use crate::{Dialect, UnixMillis};

mod fingerprint;
pub mod querent_store;

pub use fingerprint::fingerprint;

/// Everything Querent knows about one target database's structure at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchemaSnapshot {
    /// The dialect the catalog was read with.
    pub dialect: Dialect,
    /// The database (catalog) name, when the dialect has one.
    #[serde(default)]
    pub database: Option<String>,
    /// A stable hash of the structure (tables and their kinds, columns with types and
    /// nullability, primary, unique and foreign keys), independent of comments, defaults,
    /// row estimates, samples, `taken_at` and read order: equal fingerprints mean the same
    /// schema. 16 lowercase hex digits (FNV-1a 64, see [`fingerprint()`]).
    pub fingerprint: String,
    /// When the catalog was read.
    pub taken_at: UnixMillis,
    /// Tables and views, sorted by schema then name.
    pub tables: Vec<TableInfo>,
}

/// Whether a relation is a base table or a kind of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Unique constraints (not the primary key), sorted by their columns.
    #[serde(default)]
    pub unique_constraints: Vec<UniqueConstraint>,
    /// Foreign keys declared on this table, sorted by their columns.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// The catalog's row count estimate, when it keeps one (`None` for views, for SQLite,
    /// and for PostgreSQL tables never analysed).
    #[serde(default)]
    pub row_estimate: Option<u64>,
}

/// One column of a table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnInfo {
    /// Column name as the catalog spells it.
    pub name: String,
    /// The declared type as the database names it (e.g. `integer`, `varchar(40)`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression as the catalog prints it, if any.
    #[serde(default)]
    pub default: Option<String>,
    /// The catalog comment, if any.
    #[serde(default)]
    pub comment: Option<String>,
    /// Distinct values sampled from a low-cardinality column (empty when not sampled,
    /// when sampling is off for the connection, or when the column is excluded or masked).
    #[serde(default)]
    pub sample_values: Vec<String>,
}

impl TableInfo {
    /// A plain table (no comment, keys, constraints or estimate) with these columns.
    pub fn plain(schema: Option<&str>, name: &str, columns: Vec<ColumnInfo>) -> Self {
        Self {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            kind: TableKind::Table,
            comment: None,
            columns,
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: None,
        }
    }
}

impl ColumnInfo {
    /// A nullable column of this type, with no default, comment or samples.
    pub fn plain(name: &str, data_type: &str) -> Self {
        Self {
            name: name.to_owned(),
            data_type: data_type.to_owned(),
            nullable: true,
            default: None,
            comment: None,
            sample_values: Vec::new(),
        }
    }
}

/// A unique constraint (or, for SQLite, a unique index) over some columns of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniqueConstraint {
    /// Constraint name, when the catalog has a meaningful one.
    #[serde(default)]
    pub name: Option<String>,
    /// The columns, in key order.
    pub columns: Vec<String>,
}

/// A foreign key from some columns of one table to columns of another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl SchemaSnapshot {
    /// Sorts tables by schema then name and their keys by columns, then recomputes
    /// [`SchemaSnapshot::fingerprint`]. Drivers call it once the snapshot is filled in.
    pub fn normalize(&mut self) {
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for t in &mut self.tables {
            t.unique_constraints
                .sort_by(|a, b| (&a.columns, &a.name).cmp(&(&b.columns, &b.name)));
            t.foreign_keys.sort_by(|a, b| {
                (&a.columns, &a.referenced_table, &a.name).cmp(&(
                    &b.columns,
                    &b.referenced_table,
                    &b.name,
                ))
            });
        }
        self.fingerprint = fingerprint(&self.tables);
    }

    /// The table with this name (and schema, when given).
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&TableInfo> {
        self.tables
            .iter()
            .find(|t| t.name == name && (schema.is_none() || t.schema.as_deref() == schema))
    }
}

impl TableInfo {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}
