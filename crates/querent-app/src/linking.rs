//! Schema linking in the chat pipeline: for a large schema, the provider gets only the
//! tables a question needs (querent-semantic's BM25 index over names, comments and sampled
//! values — and the semantic model's display names, synonyms, value mappings and metrics
//! when the connection has one — plus the tables on the foreign-key paths joining them).
//! The guard still checks the SQL against the whole schema. Indexes are kept per
//! connection, schema fingerprint, policy and model version, so a schema refresh or a model
//! edit builds a new one.

use std::sync::{Arc, Mutex};

use querent_domain::Connection;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::SemanticModel;
use querent_semantic::{LinkIndex, LinkOptions, subset_with_policy};

use crate::App;

/// Link indexes kept (most recently used last).
const CACHED_INDEXES: usize = 16;

/// Key: connection, schema fingerprint, privacy policy (as JSON), model version and time.
type Key = (
    querent_domain::ConnectionId,
    String,
    String,
    Option<(u32, i64)>,
);

/// A small LRU of link indexes.
#[derive(Default)]
pub(crate) struct LinkCache(Mutex<Vec<(Key, Arc<LinkIndex>)>>);

impl LinkCache {
    fn get_or_build(&self, key: Key, build: impl FnOnce() -> LinkIndex) -> Arc<LinkIndex> {
        {
            let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = entries.iter().position(|(k, _)| *k == key) {
                let hit = entries.remove(i);
                let index = Arc::clone(&hit.1);
                entries.push(hit);
                return index;
            }
        }
        // Built outside the lock: a 10,000-table index takes a while.
        let index = Arc::new(build());
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| k.0 != key.0);
        entries.push((key, Arc::clone(&index)));
        if entries.len() > CACHED_INDEXES {
            entries.remove(0);
        }
        index
    }
}

impl App {
    /// The part of `schema` the provider should see for `question`: all of it when it is
    /// small or nothing could be linked, else the linked tables.
    pub(crate) fn link_schema(
        &self,
        conn: &Connection,
        schema: &Arc<SchemaSnapshot>,
        model: Option<&SemanticModel>,
        question: &str,
    ) -> Arc<SchemaSnapshot> {
        if schema.tables.len() <= self.config().link_above_tables {
            return Arc::clone(schema);
        }
        let key = (
            conn.id,
            schema.fingerprint.clone(),
            serde_json::to_string(&conn.privacy).unwrap_or_default(),
            model.map(|m| (m.version, m.updated_at)),
        );
        let index = self.inner.links.get_or_build(key, || {
            LinkIndex::new_with_model(schema, &conn.privacy, model)
        });
        let linked = index.link(question, &LinkOptions::default());
        if linked.tables.is_empty() {
            return Arc::clone(schema);
        }
        Arc::new(subset_with_policy(schema, &linked, &conn.privacy))
    }
}
