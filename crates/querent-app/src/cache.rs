//! The semantic cache in the chat pipeline, and `/cache`.
//!
//! The metadata store holds the entries (`cache_entries`), so they survive a restart and
//! are shared by every server instance; each instance keeps a [`CacheIndex`] mirror of the
//! connections it has answered for, loaded from the store on first use and reloaded once
//! it is [`MIRROR_MAX_AGE`] old (to see entries other instances wrote). A hit found in the
//! mirror is served only after the store confirms the entry still exists and is unexpired
//! (one `UPDATE` that also counts the hit), so an eviction on another instance is honoured
//! at once; a mirror miss asks the store for an exact match before giving up.
//!
//! Only SQL that passed the guard and executed is stored, and a hit is validated by the
//! guard and executed again — results are never served stale.
//!
//! The cache's writes are off the request path: a new entry goes into the mirror at once
//! and into a queue; lookup outcomes and hits are added up in memory. One flush at a time
//! writes everything queued in one transaction per kind (entries, then counters and hits),
//! trimming each connection once per batch, so concurrent misses never queue behind each
//! other's store writes; while a flush writes, the next batch gathers (group commit). When
//! no entry waits, counts and hits gather for up to [`USES_GATHER`] before their flush
//! starts (one transaction for all of them instead of one per hit: a hit's largest store
//! write, issue 19); a queued entry ends the wait at once, so entries reach the store as
//! soon as before. Any
//! reader of the stored entries or counters here (`/cache`, eviction, invalidation) first
//! waits for what was queued before it. What a crash can lose is the cache's own
//! bookkeeping of the last moments (entries the next miss re-creates, counts), never a
//! question or an answer: those are the chat's own synchronous writes.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use querent_cache::{
    CacheConfig, CacheIndex, Entry, Guards, LEXICAL_EMBEDDER, MatchKind, Scope, lexical_embedding,
    normalize,
};
use querent_domain::learning::{CacheCounters, CacheOutcome, CacheRecord};
use querent_domain::{
    CacheEntryId, ConnectionId, MessageId, TeamRole, UnixMillis, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// A mirror older than this is reloaded from the store before a lookup.
pub const MIRROR_MAX_AGE: Duration = Duration::from_secs(60);

/// Entries kept per connection (least recently used go first).
pub const MAX_ENTRIES_PER_CONNECTION: usize = 10_000;

/// Longest wait for the embedder on the chat path; beyond it the lexical embedding is used
/// (a slow or unreachable embeddings API must not slow every question down).
pub const EMBED_TIMEOUT: Duration = Duration::from_secs(2);

/// Entries waiting for the writer at most; beyond, new entries are not stored (the mirror
/// still has them; the store is behind by more than a flush can catch up with).
pub const MAX_PENDING_ENTRIES: usize = 10_000;

/// Entries written per transaction at most.
const FLUSH_BATCH: usize = 256;

/// How long lookup counts and hits alone wait for more before they are written. What a
/// crash can lose grows by as much: these counters' last second (never an entry, a
/// question or an answer). Readers of the counters and shutdown flush at once.
pub const USES_GATHER: Duration = Duration::from_secs(1);

/// The per-process part of the cache: the lookup mirror and the writes not yet flushed.
#[derive(Debug)]
pub(crate) struct CacheState {
    index: Mutex<CacheIndex>,
    loaded: Mutex<HashMap<ConnectionId, Instant>>,
    /// Connections whose mirror is being (re)loaded: one load at a time per connection.
    loading: Mutex<HashSet<ConnectionId>>,
    /// Writes waiting for the next flush.
    pending: Mutex<Pending>,
    /// A flush task is running (at most one is spawned at a time).
    flushing: AtomicBool,
    /// Held by the flush writing: one at a time, and a caller that takes it after
    /// queueing knows everything queued before has landed.
    flush_turn: tokio::sync::Mutex<()>,
    /// Told when an entry is queued: ends a flush task's wait for more counts and hits.
    entry_queued: tokio::sync::Notify,
}

/// Cache writes not yet in the store.
#[derive(Debug, Default)]
struct Pending {
    entries: Vec<CacheRecord>,
    /// Ids of entries queued or being written: live although the store has not got them.
    unwritten: HashSet<CacheEntryId>,
    counts: HashMap<ConnectionId, CacheCounters>,
    /// Hits per entry and the last time one was served.
    hits: HashMap<CacheEntryId, (u64, UnixMillis)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.counts.is_empty() && self.hits.is_empty()
    }
}

impl Default for CacheState {
    fn default() -> Self {
        Self {
            index: Mutex::new(CacheIndex::new(CacheConfig {
                max_per_connection: MAX_ENTRIES_PER_CONNECTION,
                ..CacheConfig::default()
            })),
            loaded: Mutex::new(HashMap::new()),
            loading: Mutex::new(HashSet::new()),
            pending: Mutex::new(Pending::default()),
            flushing: AtomicBool::new(false),
            flush_turn: tokio::sync::Mutex::new(()),
            entry_queued: tokio::sync::Notify::new(),
        }
    }
}

/// Marks a connection's mirror as loading until dropped.
struct LoadingGuard<'a> {
    state: &'a CacheState,
    connection: ConnectionId,
}

impl Drop for LoadingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.state.loading).remove(&self.connection);
    }
}

/// A question's embedding: the embedder's id and the vector.
pub(crate) type Embedded = (String, Vec<f32>);

/// What a lookup found: the hit, if any, and the question's embedding when it had to be
/// computed (for storing the answer without embedding again).
#[derive(Debug, Default)]
pub(crate) struct CacheLookup {
    pub hit: Option<CacheHit>,
    pub embedded: Option<Embedded>,
}

/// A cache hit, before it is validated and run.
#[derive(Clone, Debug)]
pub(crate) struct CacheHit {
    pub id: CacheEntryId,
    pub sql: String,
    pub question: String,
    pub kind: MatchKind,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the index inconsistent in a way that
    // matters more than losing the cache: keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn entry_of(r: &CacheRecord) -> Entry {
    Entry {
        id: r.id.to_string(),
        scope: Scope {
            connection_id: r.connection_id,
            schema_fingerprint: r.schema_fingerprint.clone(),
            semantic_version: (r.semantic_version > 0).then_some(r.semantic_version),
        },
        question: r.question.clone(),
        normalized: r.normalized.clone(),
        guards: Guards::of(&r.question),
        embedder: r.embedder.clone(),
        embedding: r.embedding.clone(),
        sql: r.sql.clone(),
        hits: r.hits,
        last_used: r.last_used,
        expires_at: r.expires_at,
    }
}

impl App {
    /// The question's embedding by the configured embedder, falling back to the lexical
    /// one when the embedder fails (a remote provider down must not break chat).
    pub(crate) async fn embed_question(&self, question: &str) -> (String, Vec<f32>) {
        let embedder = &self.inner.ports.embedder;
        let lexical = || {
            (
                LEXICAL_EMBEDDER.to_owned(),
                lexical_embedding(&normalize(question)),
            )
        };
        match tokio::time::timeout(EMBED_TIMEOUT, embedder.embed(&[question.to_owned()])).await {
            Ok(Ok(mut v)) if v.len() == 1 => (embedder.id().to_owned(), v.remove(0)),
            Ok(Ok(_)) => lexical(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, embedder = embedder.id(), "embedding failed; using the lexical embedding");
                lexical()
            }
            Err(_) => {
                tracing::warn!(
                    embedder = embedder.id(),
                    timeout_ms = EMBED_TIMEOUT.as_millis() as u64,
                    "embedding timed out; using the lexical embedding"
                );
                lexical()
            }
        }
    }

    async fn ensure_mirror(&self, connection: ConnectionId) {
        let fresh = lock(&self.inner.cache.loaded)
            .get(&connection)
            .is_some_and(|t| t.elapsed() < MIRROR_MAX_AGE);
        if fresh || !lock(&self.inner.cache.loading).insert(connection) {
            // Fresh, or another request is loading it: use the mirror as it is (a miss
            // still asks the store for an exact match).
            return;
        }
        // Cleared however this ends, including a dropped future (a client that went away).
        let _loading = LoadingGuard {
            state: &self.inner.cache,
            connection,
        };
        match self
            .store()
            .cache_entries_of(connection, now_millis(), MAX_ENTRIES_PER_CONNECTION as i64)
            .await
        {
            Ok(rows) => {
                let mut index = lock(&self.inner.cache.index);
                index.invalidate_connection(connection);
                // Oldest first, so the LRU order of the mirror matches the store's.
                for r in rows.iter().rev() {
                    index.insert(entry_of(r));
                }
                lock(&self.inner.cache.loaded).insert(connection, Instant::now());
            }
            Err(e) => tracing::warn!(error = %e, %connection, "could not load the cache mirror"),
        }
    }

    /// Counts a lookup's outcome (in memory, flushed with the next batch). Hits are
    /// counted when served (after the guard accepted the SQL again and, on auto_execute
    /// connections, it ran), so an entry evicted on the way counts as the miss it was.
    pub(crate) async fn count(&self, connection: ConnectionId, outcome: CacheOutcome) {
        self.metrics().cache_lookup(outcome);
        {
            let mut pending = lock(&self.inner.cache.pending);
            let c = pending.counts.entry(connection).or_default();
            match outcome {
                CacheOutcome::ExactHit => c.exact_hits += 1,
                CacheOutcome::SimilarHit => c.similar_hits += 1,
                CacheOutcome::Miss => c.misses += 1,
            }
        }
        self.kick_cache_flush();
    }

    /// Starts a flush task unless one is running (it picks up whatever is queued).
    fn kick_cache_flush(&self) {
        if self.inner.cache.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                app.gather_cache_uses().await;
                app.flush_cache_writes().await;
                app.inner.cache.flushing.store(false, Ordering::Release);
                // Something queued after the last batch was taken and before the flag
                // went down found the flag up and spawned nothing: go on for it.
                if lock(&app.inner.cache.pending).is_empty()
                    || app.inner.cache.flushing.swap(true, Ordering::AcqRel)
                {
                    break;
                }
            }
        });
    }

    /// Waits up to [`USES_GATHER`] when only counts and hits are queued (more gather in
    /// the meantime); returns at once when an entry is queued, before or during the wait.
    async fn gather_cache_uses(&self) {
        let state = &self.inner.cache;
        if lock(&state.pending).entries.is_empty() {
            // An entry queued after the check leaves a permit: `notified` returns at once.
            let _ = tokio::time::timeout(USES_GATHER, state.entry_queued.notified()).await;
        }
    }

    /// Writes every cache write queued so far (entries, counts, hits) and returns once they
    /// are in the store (or failed: they are logged and dropped — the cache's bookkeeping,
    /// never an answer). Also the way to read one's own writes.
    pub async fn flush_cache_writes(&self) {
        let _turn = self.inner.cache.flush_turn.lock().await;
        loop {
            let (entries, counts, hits) = {
                let mut pending = lock(&self.inner.cache.pending);
                if pending.is_empty() {
                    return;
                }
                let n = pending.entries.len().min(FLUSH_BATCH);
                let entries: Vec<CacheRecord> = pending.entries.drain(..n).collect();
                let counts: Vec<(ConnectionId, CacheCounters)> = pending.counts.drain().collect();
                let hits: Vec<(CacheEntryId, u64, UnixMillis)> = pending
                    .hits
                    .drain()
                    .map(|(id, (n, at))| (id, n, at))
                    .collect();
                (entries, counts, hits)
            };
            if !entries.is_empty() {
                if let Err(e) = self
                    .store()
                    .put_cache_entries(&entries, MAX_ENTRIES_PER_CONNECTION as u64)
                    .await
                {
                    tracing::warn!(error = %e, entries = entries.len(), "could not store cache entries");
                    let mut index = lock(&self.inner.cache.index);
                    for e in &entries {
                        index.remove(&e.id.to_string());
                    }
                }
                let mut pending = lock(&self.inner.cache.pending);
                for e in &entries {
                    pending.unwritten.remove(&e.id);
                }
            }
            if let Err(e) = self.store().record_cache_use(&counts, &hits).await {
                tracing::warn!(error = %e, "could not record cache lookups and hits");
            }
        }
    }

    /// Confirms a mirror hit (the store may have lost it to an eviction or expiry on
    /// another instance; an entry of this instance not yet written is live); `None` when
    /// it must not be served. The hit is recorded in memory.
    async fn confirm(&self, h: querent_cache::Hit, now: i64) -> Option<CacheHit> {
        let id: CacheEntryId = h.id.parse().ok()?;
        let unwritten = lock(&self.inner.cache.pending).unwritten.contains(&id);
        let live = if unwritten {
            Ok(true)
        } else {
            self.store().cache_entry_live(id, now).await
        };
        match live {
            Ok(true) => {
                self.record_hit(id, now);
                Some(CacheHit {
                    id,
                    sql: h.sql,
                    question: h.question,
                    kind: h.kind,
                })
            }
            Ok(false) => {
                lock(&self.inner.cache.index).remove(&h.id);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache store unavailable; treating as a miss");
                None
            }
        }
    }

    /// Looks a question up: the exact normalised question in the mirror, then in the store
    /// (another instance may have stored it since the mirror loaded), then — embedding the
    /// question only now — the most similar entry whose guards agree. Store trouble is a
    /// miss, never a failed chat. A question with no words left after normalisation
    /// ("list all") is never looked up or stored.
    pub(crate) async fn cache_lookup(&self, scope: &Scope, question: &str) -> CacheLookup {
        let connection = scope.connection_id;
        let normalized = normalize(question);
        if normalized.is_empty() {
            return CacheLookup::default();
        }
        self.ensure_mirror(connection).await;
        let now = now_millis();
        let exact = lock(&self.inner.cache.index).lookup_exact(scope, question, now);
        if let Some(h) = exact
            && let Some(hit) = self.confirm(h, now).await
        {
            return CacheLookup {
                hit: Some(hit),
                embedded: None,
            };
        }
        let found = self
            .store()
            .find_cache_entry(
                connection,
                &scope.schema_fingerprint,
                scope.semantic_version.unwrap_or(0),
                &normalized,
                now,
            )
            .await;
        if let Ok(Some(r)) = found {
            self.record_hit(r.id, now);
            lock(&self.inner.cache.index).insert(entry_of(&r));
            return CacheLookup {
                hit: Some(CacheHit {
                    id: r.id,
                    sql: r.sql,
                    question: r.question,
                    kind: MatchKind::Exact,
                }),
                embedded: None,
            };
        }
        let (embedder, vector) = self.embed_question(question).await;
        let similar =
            lock(&self.inner.cache.index).lookup_similar(scope, question, &embedder, &vector, now);
        if let Some(h) = similar
            && let Some(hit) = self.confirm(h, now).await
        {
            return CacheLookup {
                hit: Some(hit),
                embedded: Some((embedder, vector)),
            };
        }
        self.count(connection, CacheOutcome::Miss).await;
        CacheLookup {
            hit: None,
            embedded: Some((embedder, vector)),
        }
    }

    /// Records a hit on an entry, in memory (flushed with the next batch).
    fn record_hit(&self, id: CacheEntryId, now: UnixMillis) {
        {
            let mut pending = lock(&self.inner.cache.pending);
            let h = pending.hits.entry(id).or_insert((0, now));
            h.0 += 1;
            h.1 = h.1.max(now);
        }
        self.kick_cache_flush();
    }

    /// Stores an answer and returns once it is in the store: `sql` passed the guard and
    /// executed for `question` (`embedded`: the question's embedding when the lookup
    /// computed it). Whether it was stored.
    pub(crate) async fn cache_answer(
        &self,
        scope: &Scope,
        question: &str,
        sql: &str,
        message: Option<MessageId>,
        embedded: Option<Embedded>,
    ) -> bool {
        let Some(id) = self
            .cache_answer_later(scope, question, sql, message, embedded)
            .await
        else {
            return false;
        };
        self.flush_cache_writes().await;
        // Still in the mirror: the write did not fail.
        lock(&self.inner.cache.index).get(&id.to_string()).is_some()
    }

    /// [`App::cache_answer`] without waiting: the entry is in the mirror at once and in the
    /// store after the next flush. Its id when queued.
    pub(crate) async fn cache_answer_later(
        &self,
        scope: &Scope,
        question: &str,
        sql: &str,
        message: Option<MessageId>,
        embedded: Option<Embedded>,
    ) -> Option<CacheEntryId> {
        if normalize(question).is_empty() {
            return None;
        }
        let ttl = match self.current_settings().await {
            Ok(s) => s.cache_ttl_seconds,
            Err(e) => {
                tracing::warn!(error = %e, "settings unavailable; not caching");
                return None;
            }
        };
        if ttl == 0 {
            return None;
        }
        let (embedder, embedding) = match embedded {
            Some(e) => e,
            None => self.embed_question(question).await,
        };
        let now = now_millis();
        let record = CacheRecord {
            id: CacheEntryId::new(),
            connection_id: scope.connection_id,
            schema_fingerprint: scope.schema_fingerprint.clone(),
            semantic_version: scope.semantic_version.unwrap_or(0),
            question: question.to_owned(),
            normalized: normalize(question),
            guards: serde_json::to_string(&Guards::of(question)).unwrap_or_default(),
            embedder,
            embedding,
            sql: sql.to_owned(),
            source_message_id: message,
            hits: 0,
            last_used: now,
            created_at: now,
            expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX / 2000) * 1000),
        };
        let id = record.id;
        {
            let mut pending = lock(&self.inner.cache.pending);
            if pending.entries.len() >= MAX_PENDING_ENTRIES {
                tracing::warn!(
                    pending = pending.entries.len(),
                    "the cache's writer is behind; this answer is not cached"
                );
                return None;
            }
            pending.unwritten.insert(id);
            pending.entries.push(record.clone());
        }
        lock(&self.inner.cache.index).insert(entry_of(&record));
        self.inner.cache.entry_queued.notify_one();
        self.kick_cache_flush();
        Some(id)
    }

    /// Removes one entry everywhere (a hit that no longer validates or runs).
    pub(crate) async fn cache_evict(&self, id: CacheEntryId) {
        self.metrics().cache_eviction();
        lock(&self.inner.cache.index).remove(&id.to_string());
        self.flush_cache_writes().await;
        if let Err(e) = self.store().delete_cache_entry(id).await {
            tracing::warn!(error = %e, "could not evict a cache entry");
        }
    }

    /// Removes a connection's entries for a question, in every scope, and the entry that
    /// served an answer (`served`: a similar hit is stored under another question);
    /// returns how many.
    pub(crate) async fn cache_evict_question(
        &self,
        connection: ConnectionId,
        question: &str,
        served: Option<CacheEntryId>,
    ) -> ServiceResult<u64> {
        let normalized = normalize(question);
        self.flush_cache_writes().await;
        let mut n = self
            .store()
            .delete_cache_entries_for(connection, &normalized)
            .await?;
        if let Some(id) = served
            && self.store().delete_cache_entry(id).await?
        {
            n += 1;
        }
        let mut index = lock(&self.inner.cache.index);
        let mut ids: Vec<String> = index
            .ids_of(connection)
            .into_iter()
            .filter(|id| index.get(id).is_some_and(|e| e.normalized == normalized))
            .collect();
        ids.extend(served.map(|s| s.to_string()));
        for id in ids {
            index.remove(&id);
        }
        self.metrics().cache_evictions(n);
        Ok(n)
    }

    /// Drops a connection's entries (all of them, or those not on `keep_fingerprint`).
    pub(crate) async fn cache_invalidate(
        &self,
        connection: ConnectionId,
        keep_fingerprint: Option<&str>,
    ) -> ServiceResult<u64> {
        self.flush_cache_writes().await;
        let n = self
            .store()
            .clear_cache(connection, keep_fingerprint)
            .await?;
        lock(&self.inner.cache.index).invalidate_connection(connection);
        lock(&self.inner.cache.loaded).remove(&connection);
        Ok(n)
    }

    async fn cache_connections(
        &self,
        actor: &Actor,
        connection: Option<ConnectionId>,
        min: TeamRole,
    ) -> ServiceResult<Vec<(ConnectionId, String)>> {
        match connection {
            Some(id) => {
                let c = self.load_connection(actor, id, min).await?;
                Ok(vec![(c.id, c.name)])
            }
            None => {
                let mut out = Vec::new();
                for team in self.visible_teams(actor).await? {
                    if self
                        .team_role(actor, team)
                        .await?
                        .is_some_and(|r| r.at_least(min))
                    {
                        let conns = self
                            .store()
                            .list_connections(&[team], &querent_domain::ports::Page::first(10_000))
                            .await?;
                        out.extend(conns.into_iter().map(|c| (c.id, c.name)));
                    }
                }
                Ok(out)
            }
        }
    }

    /// `GET /cache/stats`: hits, misses, hit ratio and size per connection the caller can
    /// see (or one connection).
    pub async fn cache_stats(
        &self,
        actor: &Actor,
        connection: Option<ConnectionId>,
    ) -> ServiceResult<CacheStatsView> {
        let conns = self
            .cache_connections(actor, connection, TeamRole::Viewer)
            .await?;
        let ids: Vec<ConnectionId> = conns.iter().map(|(id, _)| *id).collect();
        self.flush_cache_writes().await;
        let rows = self.store().cache_stats(&ids, now_millis()).await?;
        let mut total = CacheCountsView::default();
        let mut per = Vec::with_capacity(rows.len());
        for (id, counters, size) in rows {
            let name = conns
                .iter()
                .find(|(c, _)| *c == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            let v = CacheCountsView::of(
                counters.exact_hits,
                counters.similar_hits,
                counters.misses,
                size,
            );
            total = CacheCountsView::of(
                total.exact_hits + v.exact_hits,
                total.similar_hits + v.similar_hits,
                total.misses + v.misses,
                total.entries + v.entries,
            );
            per.push(ConnectionCacheStats {
                connection_id: id,
                connection_name: name,
                counts: v,
            });
        }
        Ok(CacheStatsView {
            total,
            connections: per,
            embedder: self.inner.ports.embedder.id().to_owned(),
            ttl_seconds: self.effective_settings().await?.cache_ttl_seconds,
            max_entries_per_connection: MAX_ENTRIES_PER_CONNECTION as u64,
        })
    }

    /// `GET /cache/entries` (editor or above).
    pub async fn cache_entries(
        &self,
        actor: &Actor,
        connection: Option<ConnectionId>,
        params: &ListParams,
    ) -> ServiceResult<Paginated<CacheEntryView>> {
        let page = params.page()?;
        let conns = self
            .cache_connections(actor, connection, TeamRole::Editor)
            .await?;
        let ids: Vec<ConnectionId> = conns.iter().map(|(id, _)| *id).collect();
        self.flush_cache_writes().await;
        let rows = self
            .store()
            .list_cache_entries(&ids, now_millis(), &page)
            .await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |r| r.id.to_string(),
            CacheEntryView::from,
        ))
    }

    /// `DELETE /cache/entries/{id}` (editor or above).
    pub async fn delete_cache_entry(&self, actor: &Actor, id: CacheEntryId) -> ServiceResult<()> {
        self.flush_cache_writes().await;
        let entry = self
            .store()
            .cache_entry(id)
            .await
            .or_not_found("cache entry")?;
        self.load_connection(actor, entry.connection_id, TeamRole::Editor)
            .await
            .map_err(|e| {
                if e.code == querent_domain::ErrorCode::NotFound {
                    ServiceError::not_found("cache entry")
                } else {
                    e
                }
            })?;
        self.cache_evict(id).await;
        self.audit_by(
            actor,
            "cache.delete_entry",
            format!("cache_entry:{id}"),
            None,
        )
        .await;
        Ok(())
    }

    /// `DELETE /cache?connection_id=` (editor or above).
    pub async fn clear_connection_cache(
        &self,
        actor: &Actor,
        connection: ConnectionId,
    ) -> ServiceResult<CacheCleared> {
        self.load_connection(actor, connection, TeamRole::Editor)
            .await?;
        let removed = self.cache_invalidate(connection, None).await?;
        self.audit_by(
            actor,
            "cache.clear",
            format!("connection:{connection}"),
            Some(format!("removed={removed}")),
        )
        .await;
        Ok(CacheCleared { removed })
    }
}

/// Hit and miss counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheCountsView {
    /// Exact hits (same normalised question).
    pub exact_hits: u64,
    /// Similar hits (embedding similarity with every guard equal).
    pub similar_hits: u64,
    /// All hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// hits / (hits + misses); 0 before any lookup.
    pub hit_ratio: f64,
    /// Live entries.
    pub entries: u64,
}

impl CacheCountsView {
    fn of(exact_hits: u64, similar_hits: u64, misses: u64, entries: u64) -> Self {
        let hits = exact_hits + similar_hits;
        let lookups = hits + misses;
        Self {
            exact_hits,
            similar_hits,
            hits,
            misses,
            hit_ratio: if lookups == 0 {
                0.0
            } else {
                hits as f64 / lookups as f64
            },
            entries,
        }
    }
}

/// One connection's cache figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionCacheStats {
    /// The connection.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// Its name.
    pub connection_name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: CacheCountsView,
}

/// `GET /cache/stats`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheStatsView {
    /// Over every connection listed.
    pub total: CacheCountsView,
    /// Per connection.
    pub connections: Vec<ConnectionCacheStats>,
    /// The embedder used for similarity (`lexical-trigram-256` without a model).
    pub embedder: String,
    /// How long entries live (setting `cache_ttl_seconds`; 0 disables the cache).
    pub ttl_seconds: u64,
    /// Entries kept per connection before the least recently used go.
    pub max_entries_per_connection: u64,
}

/// A cache entry as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheEntryView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: CacheEntryId,
    /// Connection.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The question it was stored for.
    pub question: String,
    /// Its normalised form.
    pub normalized_question: String,
    /// The SQL (validated again on every use).
    pub sql: String,
    /// Schema fingerprint it is valid for.
    pub schema_fingerprint: String,
    /// Semantic model version it is valid for (0: no model).
    pub semantic_version: u32,
    /// Embedder of its vector.
    pub embedder: String,
    /// Times served.
    pub hits: u64,
    /// Last served or stored (RFC 3339).
    pub last_used: String,
    /// Stored (RFC 3339).
    pub created_at: String,
    /// Expires (RFC 3339).
    pub expires_at: String,
    /// The chat message that produced it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub source_message_id: Option<MessageId>,
}

impl From<CacheRecord> for CacheEntryView {
    fn from(r: CacheRecord) -> Self {
        Self {
            id: r.id,
            connection_id: r.connection_id,
            question: r.question,
            normalized_question: r.normalized,
            sql: r.sql,
            schema_fingerprint: r.schema_fingerprint,
            semantic_version: r.semantic_version,
            embedder: r.embedder,
            hits: r.hits,
            last_used: millis_to_rfc3339(r.last_used),
            created_at: millis_to_rfc3339(r.created_at),
            expires_at: millis_to_rfc3339(r.expires_at),
            source_message_id: r.source_message_id,
        }
    }
}

/// `DELETE /cache`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheCleared {
    /// Entries removed.
    pub removed: u64,
}
