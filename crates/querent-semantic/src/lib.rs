//! # querent-semantic
//!
//! The semantic side of a target database (design §8). Today it holds the **schema
//! linker**: given a possibly huge [`SchemaSnapshot`](querent_domain::schema::SchemaSnapshot)
//! and a plain-language question, pick the few tables (and their columns) the question
//! needs, so that only those are rendered into the prompt.
//!
//! - [`LinkIndex::new`] (or [`LinkIndex::new_with_policy`]) builds, once per snapshot, a
//!   lexical index: table and column names split at snake_case/camelCase/digit
//!   boundaries, lowercased, generic abbreviations expanded (`qty`, `num`/`no`, `dept`,
//!   `emp`, `cust`, `addr`, `amt`, …), lightly stemmed (`categories` → `category`,
//!   `ordered` → `order`); comments and sampled values too. Postings carry per-field counts
//!   (table name, column names, comments, value words) scored BM25-style with IDF over the
//!   schema's tables; whole sampled values are kept for phrase lookup; declared foreign
//!   keys form an undirected adjacency graph. 10,000 tables index in well under a second
//!   and take a few megabytes.
//! - [`LinkIndex::link`] scores the tables for a question (table-name hits weigh most,
//!   then column names, comments and value words; a sampled value found whole in the
//!   question, especially quoted or capitalised, is strong evidence), keeps the best
//!   [`LinkOptions::max_tables`] above the thresholds, and adds the tables on the shortest
//!   FK paths (≤ 3 hops) that connect them. Ordering is deterministic (score descending,
//!   then name).
//! - [`subset`] / [`subset_with_policy`] cut the snapshot down to the linked tables for
//!   rendering into a prompt.
//! - [`synthetic_schema`] generates large, varied schemas for tests and benches.
//!
//! The stored semantic-model types ([`SemanticModel`] and its parts: display names,
//! synonyms, join paths, value mappings, metrics) are defined here too; drafting them from
//! a snapshot, drift reports and using them in linking come later (issue 7).
//!
//! Depends on: querent-domain only (plus serde for the model types). Pure and synchronous.
//!
//! Must never: call a provider (embeddings, when used, will be passed in), do I/O (no
//! metadata store, no target database, no files), or put excluded tables and columns into a
//! prompt — an index built with [`LinkIndex::new_with_policy`] never links them nor routes
//! join paths through them, and [`subset_with_policy`] strips them from a rendered subset.

mod link;
mod synthetic;
mod text;

pub use link::{LinkIndex, LinkOptions, Linked, LinkedTable, subset, subset_with_policy};
pub use synthetic::synthetic_schema;

use querent_domain::{ConnectionId, UnixMillis};
use serde::{Deserialize, Serialize};

/// The semantic layer of one connection, as stored (`semantic_models`) and as edited
/// through `GET/PUT /api/v1/connections/{id}/semantic-model`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct ValueMapping {
    /// What people say ("Germany", "active").
    pub phrase: String,
    /// What the column stores (`DE`, `1`).
    pub value: String,
}

/// How two tables join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
