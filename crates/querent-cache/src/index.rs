//! [`CacheIndex`]: the lookup structure over cache entries. Exact hits come from a hash map
//! on (scope, normalised question); similarity hits only compare entries of the same scope
//! whose guards hash alike, so a lookup touches a handful of entries even with a million in
//! the index. TTL and a least-recently-used bound per connection limit its size.

use std::collections::{BTreeSet, HashMap};

use querent_domain::{ConnectionId, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::MatchKind;
use crate::matching::{Guards, cosine, lexical_embedding, normalize};

/// What entries are filed under: they answer only questions about the same connection, on
/// the same schema, under the same semantic model version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The connection.
    pub connection_id: ConnectionId,
    /// The schema snapshot's fingerprint.
    pub schema_fingerprint: String,
    /// The semantic model version, if the connection has a model.
    pub semantic_version: Option<u32>,
}

/// One cached answer: SQL that passed the guard and executed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Stable id.
    pub id: String,
    /// Scope.
    pub scope: Scope,
    /// The question as first asked.
    pub question: String,
    /// Its normalised form.
    pub normalized: String,
    /// Its guards.
    pub guards: Guards,
    /// Which embedder produced `embedding` (only vectors of the same embedder are compared).
    pub embedder: String,
    /// Its embedding (unit length).
    pub embedding: Vec<f32>,
    /// The SQL.
    pub sql: String,
    /// Times served.
    pub hits: u64,
    /// Last served (or created).
    pub last_used: UnixMillis,
    /// Expiry.
    pub expires_at: UnixMillis,
}

/// Id of the built-in lexical embedding, [`lexical_embedding`].
pub const LEXICAL_EMBEDDER: &str = crate::LexicalEmbedder::ID;

impl Entry {
    /// A new entry for a question answered by `sql`, with the lexical embedding.
    pub fn new(
        id: String,
        scope: Scope,
        question: &str,
        sql: String,
        now: UnixMillis,
        ttl_ms: i64,
    ) -> Self {
        let embedding = lexical_embedding(&normalize(question));
        Self::embedded(
            id,
            scope,
            question,
            sql,
            now,
            ttl_ms,
            LEXICAL_EMBEDDER.to_owned(),
            embedding,
        )
    }

    /// A new entry with an embedding computed by `embedder`.
    #[allow(clippy::too_many_arguments)]
    pub fn embedded(
        id: String,
        scope: Scope,
        question: &str,
        sql: String,
        now: UnixMillis,
        ttl_ms: i64,
        embedder: String,
        embedding: Vec<f32>,
    ) -> Self {
        Self {
            id,
            scope,
            question: question.to_owned(),
            normalized: normalize(question),
            guards: Guards::of(question),
            embedder,
            embedding,
            sql,
            hits: 0,
            last_used: now,
            expires_at: now.saturating_add(ttl_ms),
        }
    }
}

/// A hit.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The entry.
    pub id: String,
    /// Its SQL (to be validated and executed again, never served stale).
    pub sql: String,
    /// The question the entry was stored for.
    pub question: String,
    /// Exact or similar.
    pub kind: MatchKind,
    /// Cosine similarity (1 for exact hits).
    pub similarity: f32,
}

/// Tunables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheConfig {
    /// Least cosine similarity for a similar hit.
    pub threshold: f32,
    /// Entries kept per connection (least recently used go first).
    pub max_per_connection: usize,
    /// A similarity lookup compares at most this many entries of a bucket (scope and
    /// guards), the most recently added first, so its cost is bounded whatever the size of
    /// the index; older entries still hit exactly.
    pub max_scan: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            threshold: 0.8,
            max_per_connection: 10_000,
            max_scan: 4096,
        }
    }
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Exact hits.
    pub exact_hits: u64,
    /// Similar hits.
    pub similar_hits: u64,
    /// Misses.
    pub misses: u64,
    /// Entries held.
    pub entries: u64,
}

/// Ids of one bucket, oldest first. Removal is lazy (ids of removed entries stay until the
/// bucket is compacted), so removing from a huge bucket costs nothing.
#[derive(Debug, Default)]
struct Bucket {
    ids: Vec<String>,
    stale: usize,
}

/// The index.
#[derive(Debug, Default)]
pub struct CacheIndex {
    config: CacheConfig,
    entries: HashMap<String, Entry>,
    exact: HashMap<(Scope, String), String>,
    buckets: HashMap<(Scope, u64), Bucket>,
    lru: HashMap<ConnectionId, BTreeSet<(UnixMillis, String)>>,
    stats: Stats,
}

impl CacheIndex {
    /// An empty index.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            config,
            ..Default::default()
        }
    }

    /// Counters and size.
    pub fn stats(&self) -> Stats {
        Stats {
            entries: self.entries.len() as u64,
            ..self.stats
        }
    }

    /// An entry by id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Entries held for a connection.
    pub fn len_of(&self, connection: ConnectionId) -> usize {
        self.lru.get(&connection).map_or(0, BTreeSet::len)
    }

    /// Ids of a connection's entries.
    pub fn ids_of(&self, connection: ConnectionId) -> Vec<String> {
        self.lru
            .get(&connection)
            .map(|s| s.iter().map(|(_, id)| id.clone()).collect())
            .unwrap_or_default()
    }

    /// Looks a question up in a scope with the lexical embedding; expired entries are
    /// dropped on the way.
    pub fn lookup(&mut self, scope: &Scope, question: &str, now: UnixMillis) -> Option<Hit> {
        let embedding = lexical_embedding(&normalize(question));
        self.lookup_embedded(scope, question, Some((LEXICAL_EMBEDDER, &embedding)), now)
    }

    /// Looks a question up: exact match on the normalised question first, then — when an
    /// embedding is given — the most similar entry of the same scope and embedder whose
    /// guards are equal, at or above the threshold.
    pub fn lookup_embedded(
        &mut self,
        scope: &Scope,
        question: &str,
        embedding: Option<(&str, &[f32])>,
        now: UnixMillis,
    ) -> Option<Hit> {
        let normalized = normalize(question);
        if let Some(id) = self
            .exact
            .get(&(scope.clone(), normalized.clone()))
            .cloned()
        {
            if self.expired(&id, now) {
                self.remove(&id);
            } else {
                self.stats.exact_hits += 1;
                return self.touch(&id, now, MatchKind::Exact, 1.0);
            }
        }
        let best = embedding.and_then(|(embedder, vector)| {
            self.most_similar(scope, &Guards::of(question), embedder, vector, now)
        });
        match best {
            Some((sim, id)) => {
                self.stats.similar_hits += 1;
                self.touch(&id, now, MatchKind::Similar, sim)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    fn most_similar(
        &mut self,
        scope: &Scope,
        guards: &Guards,
        embedder: &str,
        vector: &[f32],
        now: UnixMillis,
    ) -> Option<(f32, String)> {
        let key = (scope.clone(), guards.bucket());
        let bucket = self.buckets.get(&key)?;
        let mut best: Option<(f32, &str)> = None;
        let mut expired = Vec::new();
        let mut scanned = 0;
        for id in bucket.ids.iter().rev() {
            let Some(e) = self.entries.get(id) else {
                continue;
            };
            if e.scope != *scope {
                continue;
            }
            if e.expires_at <= now {
                expired.push(id.clone());
                continue;
            }
            scanned += 1;
            if scanned > self.config.max_scan {
                break;
            }
            if e.embedder != embedder || e.guards != *guards {
                continue;
            }
            let sim = cosine(&e.embedding, vector);
            if sim >= self.config.threshold && best.is_none_or(|(b, _)| sim > b) {
                best = Some((sim, id));
            }
        }
        let best = best.map(|(s, id)| (s, id.to_owned()));
        for id in expired {
            self.remove(&id);
        }
        best
    }

    fn expired(&self, id: &str, now: UnixMillis) -> bool {
        self.entries.get(id).is_some_and(|e| e.expires_at <= now)
    }

    fn touch(
        &mut self,
        id: &str,
        now: UnixMillis,
        kind: MatchKind,
        similarity: f32,
    ) -> Option<Hit> {
        let e = self.entries.get_mut(id)?;
        if let Some(set) = self.lru.get_mut(&e.scope.connection_id) {
            set.remove(&(e.last_used, e.id.clone()));
            set.insert((now, e.id.clone()));
        }
        e.hits += 1;
        e.last_used = now;
        Some(Hit {
            id: e.id.clone(),
            sql: e.sql.clone(),
            question: e.question.clone(),
            kind,
            similarity,
        })
    }

    /// Adds an entry (replacing one with the same id, or with the same scope and normalised
    /// question), evicting the connection's least recently used entries beyond the bound.
    pub fn insert(&mut self, entry: Entry) {
        self.remove(&entry.id);
        let exact_key = (entry.scope.clone(), entry.normalized.clone());
        if let Some(old) = self.exact.get(&exact_key).cloned() {
            self.remove(&old);
        }
        let conn = entry.scope.connection_id;
        self.exact.insert(exact_key, entry.id.clone());
        self.buckets
            .entry((entry.scope.clone(), entry.guards.bucket()))
            .or_default()
            .ids
            .push(entry.id.clone());
        let lru = self.lru.entry(conn).or_default();
        lru.insert((entry.last_used, entry.id.clone()));
        self.entries.insert(entry.id.clone(), entry);
        while self.len_of(conn) > self.config.max_per_connection {
            let Some((_, id)) = self.lru.get(&conn).and_then(|s| s.first().cloned()) else {
                break;
            };
            self.remove(&id);
        }
    }

    /// Removes an entry; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let e = self.entries.remove(id)?;
        let exact_key = (e.scope.clone(), e.normalized.clone());
        if self.exact.get(&exact_key).is_some_and(|x| x == id) {
            self.exact.remove(&exact_key);
        }
        let conn = e.scope.connection_id;
        if let Some(set) = self.lru.get_mut(&conn) {
            set.remove(&(e.last_used, e.id.clone()));
            if set.is_empty() {
                self.lru.remove(&conn);
            }
        }
        let key = (e.scope.clone(), e.guards.bucket());
        if let Some(b) = self.buckets.get_mut(&key) {
            b.stale += 1;
            if b.stale * 2 > b.ids.len() {
                let entries = &self.entries;
                let mut seen = std::collections::HashSet::new();
                b.ids
                    .retain(|x| entries.contains_key(x) && seen.insert(x.clone()));
                b.stale = 0;
                if b.ids.is_empty() {
                    self.buckets.remove(&key);
                }
            }
        }
        Some(e)
    }

    /// Drops every entry of a connection (schema refresh, model edit, connection deleted).
    pub fn invalidate_connection(&mut self, connection: ConnectionId) -> usize {
        let ids = self.ids_of(connection);
        for id in &ids {
            self.remove(id);
        }
        ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(conn: ConnectionId, fp: &str) -> Scope {
        Scope {
            connection_id: conn,
            schema_fingerprint: fp.into(),
            semantic_version: None,
        }
    }

    fn add(ix: &mut CacheIndex, s: &Scope, q: &str, sql: &str, now: i64) -> String {
        let id = format!("e{}", ix.stats().entries + 1 + now as u64);
        ix.insert(Entry::new(
            id.clone(),
            s.clone(),
            q,
            sql.into(),
            now,
            60_000,
        ));
        id
    }

    #[test]
    fn exact_similar_and_guarded_misses() {
        let conn = ConnectionId::new();
        let s = scope(conn, "f1");
        let mut ix = CacheIndex::new(CacheConfig::default());
        add(
            &mut ix,
            &s,
            "How many customers are there?",
            "SELECT count(*) FROM customers",
            0,
        );
        add(
            &mut ix,
            &s,
            "top 5 products by revenue",
            "SELECT … LIMIT 5",
            0,
        );
        add(&mut ix, &s, "revenue in 2023", "SELECT … 2023", 0);

        let hit = ix.lookup(&s, "how many customers are there", 1).unwrap();
        assert_eq!(hit.kind, MatchKind::Exact);
        let hit = ix.lookup(&s, "how many customers do we have?", 2).unwrap();
        assert_eq!(hit.kind, MatchKind::Exact, "filler words do not count");
        let hit = ix.lookup(&s, "how many customers in total?", 2).unwrap();
        assert_eq!(hit.kind, MatchKind::Similar, "a rephrasing");
        assert_eq!(hit.sql, "SELECT count(*) FROM customers");
        assert!(
            ix.lookup(&s, "top 10 products by revenue", 3).is_none(),
            "numbers differ"
        );
        assert!(
            ix.lookup(&s, "revenue in 2024", 3).is_none(),
            "years differ"
        );
        assert!(
            ix.lookup(&s, "top five products by revenue", 3).is_some(),
            "five = 5"
        );
        // Another schema fingerprint or connection never hits.
        assert!(
            ix.lookup(&scope(conn, "f2"), "how many customers are there", 4)
                .is_none()
        );
        assert!(
            ix.lookup(
                &scope(ConnectionId::new(), "f1"),
                "how many customers are there",
                4
            )
            .is_none()
        );
        let st = ix.stats();
        assert_eq!((st.exact_hits, st.similar_hits, st.entries), (3, 1, 3));
        assert!(st.misses >= 4);
    }

    #[test]
    fn ttl_lru_and_invalidation() {
        let conn = ConnectionId::new();
        let s = scope(conn, "f");
        let mut ix = CacheIndex::new(CacheConfig {
            max_per_connection: 2,
            ..Default::default()
        });
        add(&mut ix, &s, "how many orders", "A", 0);
        add(&mut ix, &s, "how many products", "B", 1);
        assert!(ix.lookup(&s, "how many orders", 2).is_some(), "refreshes A");
        add(&mut ix, &s, "how many employees", "C", 3);
        assert_eq!(ix.stats().entries, 2);
        assert!(
            ix.lookup(&s, "how many products", 4).is_none(),
            "B was least recently used"
        );
        assert!(
            ix.lookup(&s, "how many orders", 70_000).is_none(),
            "expired"
        );
        assert_eq!(
            ix.stats().entries,
            0,
            "expired entries met on the way are dropped"
        );
        add(&mut ix, &s, "how many orders", "A", 70_001);
        assert_eq!(ix.invalidate_connection(conn), 1);
        assert_eq!(ix.stats().entries, 0);
    }

    #[test]
    fn twenty_thousand_entries_stay_searchable() {
        // Correctness at size; speed is measured by the bench, not asserted here.
        let conn = ConnectionId::new();
        let s = scope(conn, "f");
        let mut ix = CacheIndex::new(CacheConfig {
            max_per_connection: usize::MAX,
            ..Default::default()
        });
        for i in 0..20_000u32 {
            let id = format!("id{i}");
            ix.insert(Entry::new(
                id,
                s.clone(),
                &format!("orders of customer {i} in 2023"),
                format!("SQL {i}"),
                0,
                1 << 40,
            ));
        }
        let hit = ix
            .lookup(&s, "orders of customer 12345 in 2023", 1)
            .unwrap();
        assert_eq!(hit.sql, "SQL 12345");
        assert!(
            ix.lookup(&s, "orders of customer 12345 in 2022", 1)
                .is_none()
        );
    }
}
