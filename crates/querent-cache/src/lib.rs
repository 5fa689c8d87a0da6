//! # querent-cache
//!
//! The semantic cache of generated SQL (design §8). A question is looked up first by exact
//! match on its normalised text, then by embedding similarity at or above a threshold — and
//! a similar hit is served only when its guards agree: the question's shape (every content
//! word in order, with groupings, orderings, comparisons and aggregates; only filler,
//! inflection and phrasings of one operation may differ), numbers, dates, relative-time
//! words, negations and entity values must match — so a cached answer is one that was given
//! to this very question, never to a differently grouped, ordered or filtered one. Entries are keyed by connection, schema
//! fingerprint and semantic model version, so a schema refresh or a model edit invalidates
//! them; TTL and an LRU bound limit their number; a thumbs-down evicts one. Only SQL that
//! passed the guard is ever stored or served.
//!
//! Depends on: querent-domain. Entries live in the metadata store (`cache_entries`), so the
//! cache works across several server instances; this crate decides what matches, the store
//! keeps the rows.
//!
//! Must never: serve SQL that did not pass the guard, keep process-local state that two
//! server instances would disagree on, evict with statements that can deadlock under
//! concurrent misses (evict in one statement in a fixed order, or with `SKIP LOCKED`), or
//! store masked values.
//!
//! What is here: [`normalize`], [`canonical`] (a question's shape), [`Guards`], the deterministic [`lexical_embedding`] and its
//! [`LexicalEmbedder`] (the fallback when no model embedder is configured), and the
//! [`CacheIndex`]: exact lookup by (scope, normalised question), then the most similar entry
//! of the same scope, embedder and guard bucket at or above the threshold, scanning at most
//! [`CacheConfig::max_scan`] entries of a bucket (newest first) so a lookup stays bounded
//! in a million-entry index; TTL; a least-recently-used bound per connection kept in an
//! ordered set, so eviction costs O(log n). querent-app keeps one index per server instance
//! as a mirror of the store's rows and confirms every hit against the store before serving
//! it.
//!
//! ## Example
//!
//! ```
//! use querent_cache::{CacheConfig, CacheIndex, Entry, Scope};
//! use querent_domain::ConnectionId;
//!
//! let scope = Scope {
//!     connection_id: ConnectionId::new(),
//!     schema_fingerprint: "f1".into(),
//!     semantic_version: None,
//! };
//! let mut index = CacheIndex::new(CacheConfig::default());
//! let sql = "SELECT count(*) FROM orders WHERE year = 2023".to_owned();
//! index.insert(Entry::new("e1".into(), scope.clone(), "orders in 2023", sql, 0, 60_000));
//! assert!(index.lookup(&scope, "Orders in 2023?", 1).is_some());
//! assert!(index.lookup(&scope, "orders in 2024", 1).is_none(), "years must agree");
//! ```
//!
//! More in `examples/cache_lookup.rs`.

mod embedder;
mod index;
mod matching;

pub use embedder::LexicalEmbedder;
pub use index::{CacheConfig, CacheIndex, Entry, Hit, LEXICAL_EMBEDDER, Scope, Stats};
pub use matching::{Guards, LEXICAL_DIMS, canonical, cosine, lexical_embedding, normalize};

use serde::{Deserialize, Serialize};

/// How a cache hit was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The normalised question matched exactly.
    Exact,
    /// The embedding was similar enough and every guard agreed.
    Similar,
}
