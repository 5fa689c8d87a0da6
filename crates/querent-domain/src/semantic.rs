//! The semantic layer of a target database (design §8): the stored, versioned business
//! model of one connection — display names, descriptions, synonyms, join paths, value
//! mappings and metrics — plus the few-shot examples providers are shown. Plain data:
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
    /// Where the path came from.
    pub source: JoinSource,
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
