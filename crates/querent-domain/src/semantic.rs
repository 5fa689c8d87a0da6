//! The semantic layer of a target database (design §8): the stored, versioned business
//! model of one connection — display names, descriptions, synonyms, join paths, value
//! mappings and metrics — its saved versions, the [`DriftReport`] that compares it with the
//! live schema, and the few-shot examples providers are shown. Plain data:
//! querent-semantic drafts, validates and diffs models; querent-app stores them through
//! the [`SemanticModelStore`](crate::ports::SemanticModelStore) port.

use crate::{ConnectionId, UnixMillis};
use serde::{Deserialize, Serialize};

/// The semantic layer of one connection, as stored (`semantic_models`) and as edited
/// through `GET/PUT /api/v1/connections/{id}/semantic-model`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SemanticModel {
    /// The connection it describes.
    pub connection_id: ConnectionId,
    /// Version, increased by every saved edit; part of the cache key.
    pub version: u32,
    /// Fingerprint of the schema snapshot it was drafted from or last reconciled with.
    pub schema_fingerprint: String,
    /// What the database is about, in plain words, for prompts.
    #[serde(default)]
    pub description: Option<String>,
    /// Tables the model describes (tables it does not mention are still usable).
    #[serde(default)]
    pub tables: Vec<SemanticTable>,
    /// How tables join.
    #[serde(default)]
    pub joins: Vec<JoinPath>,
    /// Named business measures.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// When this version was saved.
    pub updated_at: UnixMillis,
}

/// What the model says about one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SemanticTable {
    /// The table as in the snapshot (`schema.table` or `table`).
    pub table: String,
    /// The name people use for it.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What a row is, in plain words.
    #[serde(default)]
    pub description: Option<String>,
    /// Other words for it ("clients" for `customers`).
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// What the model says about its columns.
    #[serde(default)]
    pub columns: Vec<SemanticColumn>,
}

/// What the model says about one column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SemanticColumn {
    /// The column as in the snapshot.
    pub column: String,
    /// Its declared type when the model was drafted or last reconciled (as the database
    /// names it); lets a drift report tell a type change and pair a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The name people use for it.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What it holds, with units where they matter.
    #[serde(default)]
    pub description: Option<String>,
    /// Other words for it.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// The values of a low-cardinality column, as stored.
    #[serde(default)]
    pub values: Vec<String>,
    /// Words people use for stored values.
    #[serde(default)]
    pub value_mappings: Vec<ValueMapping>,
}

/// A phrase people use for a value stored in a column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueMapping {
    /// What people say ("Germany", "active").
    pub phrase: String,
    /// What the column stores (`DE`, `1`).
    pub value: String,
}

/// How two tables join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinPath {
    /// The referencing table.
    pub from_table: String,
    /// Its join columns.
    pub from_columns: Vec<String>,
    /// The referenced table.
    pub to_table: String,
    /// Its join columns, in the same order.
    pub to_columns: Vec<String>,
    /// How many rows of each side match one row of the other.
    #[serde(default)]
    pub cardinality: JoinCardinality,
    /// Where the path came from.
    pub source: JoinSource,
}

/// How many rows of each side of a join match one row of the other side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JoinCardinality {
    /// Many rows of `from_table` to one of `to_table` (a foreign key; the default).
    #[default]
    ManyToOne,
    /// One row of `from_table` to many of `to_table`.
    OneToMany,
    /// At most one row on each side (a foreign key that is also unique).
    OneToOne,
}

/// Where a join path came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JoinSource {
    /// A declared foreign key.
    ForeignKey,
    /// Inferred from names and types (e.g. `orders.customer_id` → `customers.id`).
    Inferred,
    /// Written by a person.
    Manual,
}

/// A named measure ("revenue" = `SUM(order_items.quantity * order_items.unit_price)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metric {
    /// Its name.
    pub name: String,
    /// What it measures.
    #[serde(default)]
    pub description: Option<String>,
    /// The SQL expression (an aggregate over columns of `table` and tables joined to it).
    pub expression: String,
    /// The table it is computed from.
    pub table: String,
    /// Other words for it.
    #[serde(default)]
    pub synonyms: Vec<String>,
}

/// A verified question/SQL pair shown to providers as a few-shot example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FewShot {
    /// The question.
    pub question: String,
    /// SQL that answers it (it passed the guard when it was stored).
    pub sql: String,
}

/// One saved version of a connection's semantic model, as listed by
/// `GET /api/v1/connections/{id}/semantic-model/versions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SemanticModelVersion {
    /// The version number (1, 2, …).
    pub version: u32,
    /// Fingerprint of the schema snapshot the version was checked against.
    pub schema_fingerprint: String,
    /// Who saved it (`user:<id>` or `client:<id>`), when known.
    #[serde(default)]
    pub created_by: Option<String>,
    /// When it was saved.
    pub created_at: UnixMillis,
}

/// How the live schema differs from what a semantic model describes
/// (`GET /api/v1/connections/{id}/semantic-model/drift`). Produced by querent-semantic's
/// `drift`; plain data here so every layer can carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftReport {
    /// The model version compared.
    pub model_version: u32,
    /// The schema fingerprint the model was saved against.
    pub model_fingerprint: String,
    /// The fingerprint of the live schema.
    pub schema_fingerprint: String,
    /// Whether the two fingerprints differ (the structure changed since the model was saved).
    pub fingerprint_changed: bool,
    /// Whether anything below is non-empty: the model needs attention.
    pub drifted: bool,
    /// Tables the model describes that the live schema no longer has (and that were not
    /// paired with a new table as a rename).
    pub dropped_tables: Vec<String>,
    /// Likely table renames: a described table is gone and a new table has the same columns.
    pub renamed_tables: Vec<RenamedTable>,
    /// Described columns the live table no longer has (not paired as a rename).
    pub dropped_columns: Vec<ColumnRef>,
    /// Likely column renames: in one table a described column is gone and a new column of
    /// the same type appeared.
    pub renamed_columns: Vec<RenamedColumn>,
    /// Described columns whose declared type changed.
    pub type_changes: Vec<TypeChange>,
    /// Live tables the model does not describe.
    pub new_tables: Vec<String>,
    /// Live columns of described tables that the model does not describe (not paired as a
    /// rename).
    pub new_columns: Vec<ColumnRef>,
    /// References of the model (tables, columns, joins, metrics) that no longer resolve, with
    /// where they are in the model.
    pub broken_references: Vec<BrokenReference>,
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnRef {
    /// The table (as the model or the snapshot names it).
    pub table: String,
    /// The column.
    pub column: String,
}

/// A table that was probably renamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenamedTable {
    /// The name in the model.
    pub from: String,
    /// The name in the live schema.
    pub to: String,
}

/// A column that was probably renamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenamedColumn {
    /// Its table.
    pub table: String,
    /// The name in the model.
    pub from: String,
    /// The name in the live schema.
    pub to: String,
}

/// A column whose declared type changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypeChange {
    /// Its table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The type the model recorded.
    pub from: String,
    /// The live type.
    pub to: String,
}

/// A reference of a semantic model that does not resolve against a schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenReference {
    /// Where it is in the model, e.g. `tables[2].columns[0].column` or `joins[1].to_table`.
    pub location: String,
    /// What it names: `table` or `table.column`.
    pub reference: String,
    /// What is wrong, with a suggestion when there is one.
    pub problem: String,
}
