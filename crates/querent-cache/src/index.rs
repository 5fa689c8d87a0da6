//! [`CacheIndex`]: the lookup structure over cache entries. Exact hits come from a hash map
//! on (scope, normalised question); similarity hits only compare entries of the same scope
//! whose guards hash alike, so a lookup touches a handful of entries even with a million in
//! the index. TTL and a least-recently-used bound per connection limit its size.

use std::collections::{BTreeSet, HashMap};

use querent_domain::{ConnectionId, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::MatchKind;
use crate::matching::{Guards, lexical_embedding, normalize};

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
    /// Its embedding (unit length). Once inserted, the index keeps the vector in its
    /// bucket's contiguous matrix and this field is empty.
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
            max_scan: 2048,
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

/// The entries of one bucket (scope, embedder, guards), oldest first: their ids and their
/// vectors in one contiguous matrix, so a similarity scan reads memory in order. Removal
/// leaves a tombstone (`None`); the bucket is compacted once half of it is tombstones.
#[derive(Debug, Default)]
struct Bucket {
    dims: usize,
    ids: Vec<Option<String>>,
    vectors: Vec<f32>,
    dead: usize,
}

/// Where an entry's vector is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BucketKey {
    scope: Scope,
    embedder: String,
    guards: u64,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Four independent accumulators let the compiler vectorise the loop.
    let mut acc = [0.0f32; 4];
    let (ca, ra) = a.as_chunks::<4>();
    let (cb, rb) = b.as_chunks::<4>();
    for (x, y) in ca.iter().zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn norm(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

/// The index.
#[derive(Debug, Default)]
pub struct CacheIndex {
    config: CacheConfig,
    entries: HashMap<String, Entry>,
    exact: HashMap<(Scope, String), String>,
    buckets: HashMap<BucketKey, Bucket>,
    /// Each entry's bucket and row in it.
    slots: HashMap<String, (BucketKey, usize)>,
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
        if let Some(hit) = self.lookup_exact(scope, question, now) {
            return Some(hit);
        }
        match embedding {
            Some((embedder, vector)) => self.lookup_similar(scope, question, embedder, vector, now),
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// The entry stored for exactly this normalised question in the scope, if any and
    /// unexpired (an expired one is dropped). Counts hits only: a caller that goes on to
    /// [`CacheIndex::lookup_similar`] has that count the miss.
    pub fn lookup_exact(&mut self, scope: &Scope, question: &str, now: UnixMillis) -> Option<Hit> {
        let id = self
            .exact
            .get(&(scope.clone(), normalize(question)))
            .cloned()?;
        if self.expired(&id, now) {
            self.remove(&id);
            return None;
        }
        self.stats.exact_hits += 1;
        self.touch(&id, now, MatchKind::Exact, 1.0)
    }

    /// The most similar entry of the scope and `embedder` whose guards equal the
    /// question's, at or above the threshold (no exact lookup: see
    /// [`CacheIndex::lookup_exact`]).
    pub fn lookup_similar(
        &mut self,
        scope: &Scope,
        question: &str,
        embedder: &str,
        vector: &[f32],
        now: UnixMillis,
    ) -> Option<Hit> {
        match self.most_similar(scope, &Guards::of(question), embedder, vector, now) {
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
        let key = BucketKey {
            scope: scope.clone(),
            embedder: embedder.to_owned(),
            guards: guards.bucket(),
        };
        let bucket = self.buckets.get(&key)?;
        let dims = bucket.dims;
        let qn = norm(vector);
        if dims != vector.len() || qn == 0.0 {
            return None;
        }
        let mut best: Option<(f32, String)> = None;
        let mut expired = Vec::new();
        let mut scanned = 0;
        // Newest first: the scan is bounded, and recent questions are the likeliest repeats.
        for row in (0..bucket.ids.len()).rev() {
            let Some(id) = &bucket.ids[row] else {
                continue;
            };
            scanned += 1;
            if scanned > self.config.max_scan {
                break;
            }
            let v = &bucket.vectors[row * dims..(row + 1) * dims];
            let sim = dot(v, vector) / qn;
            if sim < self.config.threshold || best.as_ref().is_some_and(|(b, _)| sim <= *b) {
                continue;
            }
            // A candidate: buckets are keyed by a hash of the guards, so compare them for
            // real, and skip (and later drop) an expired entry instead of giving up.
            let Some(e) = self.entries.get(id) else {
                continue;
            };
            if e.expires_at <= now {
                expired.push(id.clone());
                continue;
            }
            if e.guards == *guards {
                best = Some((sim, id.clone()));
            }
        }
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
        let mut entry = entry;
        let vector = std::mem::take(&mut entry.embedding);
        let n = norm(&vector);
        if !vector.is_empty() && n > 0.0 {
            let key = BucketKey {
                scope: entry.scope.clone(),
                embedder: entry.embedder.clone(),
                guards: entry.guards.bucket(),
            };
            let bucket = self.buckets.entry(key.clone()).or_default();
            if bucket.ids.is_empty() {
                bucket.dims = vector.len();
            }
            // A vector of another length (a misconfigured embedder) is only found exactly.
            if bucket.dims == vector.len() {
                bucket.vectors.extend(vector.iter().map(|x| x / n));
                bucket.ids.push(Some(entry.id.clone()));
                self.slots
                    .insert(entry.id.clone(), (key, bucket.ids.len() - 1));
            }
        }
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
        if let Some((key, row)) = self.slots.remove(id) {
            self.tombstone(&key, row);
        }
        Some(e)
    }

    fn tombstone(&mut self, key: &BucketKey, row: usize) {
        let Some(b) = self.buckets.get_mut(key) else {
            return;
        };
        if b.ids.get(row).is_some_and(Option::is_some) {
            b.ids[row] = None;
            b.dead += 1;
        }
        if b.dead * 2 < b.ids.len() {
            return;
        }
        // Compact: keep the live rows in order and renumber them.
        let dims = b.dims;
        let mut ids = Vec::with_capacity(b.ids.len() - b.dead);
        let mut vectors = Vec::with_capacity(ids.capacity() * dims);
        for (r, id) in b.ids.iter().enumerate() {
            if let Some(id) = id {
                vectors.extend_from_slice(&b.vectors[r * dims..(r + 1) * dims]);
                ids.push(Some(id.clone()));
            }
        }
        if ids.is_empty() {
            self.buckets.remove(key);
            return;
        }
        for (r, id) in ids.iter().enumerate() {
            if let Some(id) = id
                && let Some(slot) = self.slots.get_mut(id)
            {
                slot.1 = r;
            }
        }
        b.ids = ids;
        b.vectors = vectors;
        b.dead = 0;
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
        // A grouping word changes the question: never the single total.
        assert!(
            ix.lookup(&s, "How many customers per country?", 3)
                .is_none(),
            "per country is another question"
        );
        add(
            &mut ix,
            &s,
            "How many customers per country?",
            "SELECT country, count(*) FROM customers GROUP BY country",
            3,
        );
        let hit = ix.lookup(&s, "how many customers are there", 3).unwrap();
        assert_eq!(
            hit.sql, "SELECT count(*) FROM customers",
            "and the other way round"
        );
        let hit = ix
            .lookup(&s, "How many customers per country in total?", 3)
            .unwrap();
        assert_eq!(hit.kind, MatchKind::Similar);
        assert!(hit.sql.contains("GROUP BY country"));
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
        assert_eq!((st.exact_hits, st.similar_hits, st.entries), (4, 2, 4));
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
        assert_eq!(ix.stats().entries, 1, "the expired exact match was dropped");
        assert!(
            ix.lookup(&s, "how many employees?", 70_000).is_none(),
            "expired, also by similarity"
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
