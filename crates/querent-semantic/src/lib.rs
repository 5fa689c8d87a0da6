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
//! The semantic-model types ([`SemanticModel`] and its parts: display names, synonyms,
//! join paths, value mappings, metrics) are defined in querent-domain (providers and the
//! offline translator read them) and re-exported here.
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

pub use querent_domain::semantic::{
    JoinPath, JoinSource, Metric, SemanticColumn, SemanticModel, SemanticTable, ValueMapping,
};
