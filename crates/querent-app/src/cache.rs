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

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use querent_cache::{
    CacheConfig, CacheIndex, Entry, Guards, LEXICAL_EMBEDDER, MatchKind, Scope, lexical_embedding,
    normalize,
};
use querent_domain::learning::{CacheOutcome, CacheRecord};
use querent_domain::{
    CacheEntryId, ConnectionId, MessageId, TeamRole, millis_to_rfc3339, now_millis,
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

/// The per-process part of the cache: the lookup mirror.
#[derive(Debug)]
pub(crate) struct CacheState {
    index: Mutex<CacheIndex>,
    loaded: Mutex<HashMap<ConnectionId, Instant>>,
    /// Connections whose mirror is being (re)loaded: one load at a time per connection.
    loading: Mutex<HashSet<ConnectionId>>,
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

    /// Counts a lookup's outcome. Hits are counted when served (after the guard accepted
    /// the SQL again and, on auto_execute connections, it ran), so an entry evicted on the
    /// way counts as the miss it was.
    pub(crate) async fn count(&self, connection: ConnectionId, outcome: CacheOutcome) {
        self.metrics().cache_lookup(outcome);
        if let Err(e) = self.store().count_cache(connection, outcome).await {
            tracing::warn!(error = %e, "could not count a cache lookup");
        }
    }

    /// Confirms a mirror hit against the store (it may have been evicted or expired on
    /// another instance); `None` when it must not be served.
    async fn confirm(&self, h: querent_cache::Hit, now: i64) -> Option<CacheHit> {
        let id: CacheEntryId = h.id.parse().ok()?;
        match self.store().touch_cache_entry(id, now).await {
            Ok(true) => Some(CacheHit {
                id,
                sql: h.sql,
                question: h.question,
                kind: h.kind,
            }),
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
        if let Ok(Some(r)) = found
            && let Ok(true) = self.store().touch_cache_entry(r.id, now).await
        {
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

    /// Stores an answer: `sql` passed the guard and executed for `question` (`embedded`:
    /// the question's embedding when the lookup computed it). Whether it was stored.
    pub(crate) async fn cache_answer(
        &self,
        scope: &Scope,
        question: &str,
        sql: &str,
        message: Option<MessageId>,
        embedded: Option<Embedded>,
    ) -> bool {
        if normalize(question).is_empty() {
            return false;
        }
        let ttl = match self.effective_settings().await {
            Ok(s) => s.cache_ttl_seconds,
            Err(e) => {
                tracing::warn!(error = %e, "settings unavailable; not caching");
                return false;
            }
        };
        if ttl == 0 {
            return false;
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
        match self
            .store()
            .put_cache_entry(&record, MAX_ENTRIES_PER_CONNECTION as u64)
            .await
        {
            Ok(()) => {
                lock(&self.inner.cache.index).insert(entry_of(&record));
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not store a cache entry");
                false
            }
        }
    }

    /// Removes one entry everywhere (a hit that no longer validates or runs).
    pub(crate) async fn cache_evict(&self, id: CacheEntryId) {
        self.metrics().cache_eviction();
        lock(&self.inner.cache.index).remove(&id.to_string());
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
        Ok(n)
    }

    /// Drops a connection's entries (all of them, or those not on `keep_fingerprint`).
    pub(crate) async fn cache_invalidate(
        &self,
        connection: ConnectionId,
        keep_fingerprint: Option<&str>,
    ) -> ServiceResult<u64> {
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
