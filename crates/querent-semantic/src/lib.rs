//! # querent-semantic
//!
//! The semantic side of a target database (design §8): the **schema linker** and the
//! **semantic model**'s drafts, checks and drift reports. The linker, given a possibly huge [`SchemaSnapshot`](querent_domain::schema::SchemaSnapshot)
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
//! - [`LinkIndex::new_with_model`] also indexes a connection's semantic model: table and
//!   column display names, synonyms and descriptions as text, value-mapping phrases as
//!   value evidence ("Germany" links `customers` through `country_code`), metric names and
//!   synonyms as evidence for the metric's table. Names the model gives that are another
//!   table's or column's name are not counted, so a drafted model does not blur tables.
//! - [`subset`] / [`subset_with_policy`] cut the snapshot down to the linked tables for
//!   rendering into a prompt.
//! - [`synthetic_schema`] generates large, varied schemas for tests and benches.
//!
//! The **semantic model** of a connection ([`SemanticModel`] and its parts: display names,
//! synonyms, join paths with their cardinality, value lists and mappings, metrics) is
//! defined in querent-domain (providers and the offline translator read it) and
//! re-exported here with the [`DriftReport`]; this crate drafts, checks and diffs it:
//!
//! - [`draft`] writes a first model from a snapshot with generic rules only: display names
//!   from identifiers (`order_items` → "Order items"), descriptions from catalog comments,
//!   synonyms from word forms, role prefixes and common abbreviations, join paths from
//!   declared foreign keys (`many_to_one`, `one_to_one` when unique) plus inferred ones
//!   (`customer_id` → `customers.id` when no key is declared and the types fit), value
//!   lists of low-cardinality columns from sampled values. Excluded tables and columns
//!   never appear; masked columns get no values.
//! - [`references`] lists every table and column a model names with its location in the
//!   model (`tables[2].columns[0].column`); [`check_model`] checks the model's shape and
//!   that each reference resolves and is allowed, naming the bad reference, where it is,
//!   and what was probably meant. [`join_check_sql`] and [`metric_check_sql`] build the
//!   one-line `SELECT`s with which the caller has the guard check joins and metric
//!   expressions — this crate does not parse SQL.
//! - [`describe_request`] / [`apply_descriptions`]: the instruction asking a language model
//!   to describe a draft's tables and columns, and the merge of its JSON reply (only
//!   descriptions and synonyms of names the draft has; catalog comments win).
//! - [`drift`] / [`drift_with_policy`] compare a saved model with the live schema:
//!   dropped, renamed (same-type pairs) and retyped columns, dropped and renamed tables,
//!   new tables and columns, broken references, and whether the fingerprint changed.
//!
//! Depends on: querent-domain only (plus serde and serde_json for the model types and
//! providers' replies, uuid for the nil id of a draft). Pure and synchronous.
//!
//! Must never: call a provider (embeddings, when used, will be passed in), do I/O (no
//! metadata store, no target database, no files), or put excluded tables and columns into a
//! prompt — an index built with [`LinkIndex::new_with_policy`] never links them nor routes
//! join paths through them, and [`subset_with_policy`] strips them from a rendered subset.
//!
//! ## Example
//!
//! ```
//! use querent_semantic::{LinkIndex, LinkOptions, synthetic_schema};
//!
//! let schema = synthetic_schema(200, 1);
//! let wanted = &schema.tables[17].name;
//! let linked = LinkIndex::new(&schema).link(&format!("rows of {wanted}"), &LinkOptions::default());
//! assert_eq!(&schema.tables[linked.tables[0].index].name, wanted);
//! ```
//!
//! Also `examples/link_a_question.rs`.

mod describe;
mod draft;
mod drift;
mod link;
mod model_check;
mod synthetic;
mod text;

pub use describe::{
    DESCRIBE_MAX_TABLES, DESCRIBE_TABLES_PER_REQUEST, apply_descriptions, describe_request,
    describe_requests,
};
pub use draft::{MAX_DRAFT_VALUES, column_synonyms, display_name, draft, table_synonyms};
pub use drift::{drift, drift_with_policy};
pub use link::{LinkIndex, LinkOptions, Linked, LinkedTable, subset, subset_with_policy};
pub use model_check::{
    CheckSql, ModelProblem, Reference, check_model, join_check_sql, metric_check_sql, references,
};
pub use synthetic::synthetic_schema;

pub use querent_domain::semantic::{
    BrokenReference, ColumnRef, DriftReport, JoinCardinality, JoinPath, JoinSource, Metric,
    RenamedColumn, RenamedTable, SemanticColumn, SemanticModel, SemanticModelVersion,
    SemanticTable, TypeChange, ValueMapping,
};
