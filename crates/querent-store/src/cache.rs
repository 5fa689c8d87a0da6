//! Semantic cache entries (`cache_entries`), their counters (`cache_counters`) and
//! verified examples (`examples`).

use crate::statements::KeptDsl;
use diesel::dsl::count_star;
use diesel::prelude::{AsChangeset, Insertable, Queryable};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use querent_domain::learning::{CacheCounters, CacheOutcome, CacheRecord, Example, ExampleSource};
use querent_domain::ports::{CacheStore, ExampleStore, Page};
use querent_domain::{CacheEntryId, ConnectionId, ExampleId, MessageId, TeamId, UnixMillis};

use crate::models::parse;
use crate::schema::{cache_counters, cache_entries, examples};
use crate::{DbError, Store, StoreError, StoreResult};

#[derive(Queryable, Insertable)]
#[diesel(table_name = cache_entries)]
struct CacheRow {
    id: String,
    connection_id: String,
    schema_fingerprint: String,
    semantic_version: i64,
    question: String,
    normalized: String,
    guards: String,
    embedder: String,
    embedding: Vec<u8>,
    sql_text: String,
    source_message_id: Option<String>,
    hits: i64,
    last_used: i64,
    created_at: i64,
    expires_at: i64,
}

fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_vector(b: &[u8]) -> Result<Vec<f32>, DbError> {
    if !b.len().is_multiple_of(4) {
        return Err(DbError::corrupt(format!(
            "cache embedding: {} bytes is not a whole number of f32s",
            b.len()
        )));
    }
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

impl CacheRow {
    fn from_domain(e: &CacheRecord) -> Self {
        Self {
            id: e.id.to_string(),
            connection_id: e.connection_id.to_string(),
            schema_fingerprint: e.schema_fingerprint.clone(),
            semantic_version: i64::from(e.semantic_version),
            question: e.question.clone(),
            normalized: e.normalized.clone(),
            guards: e.guards.clone(),
            embedder: e.embedder.clone(),
            embedding: encode_vector(&e.embedding),
            sql_text: e.sql.clone(),
            source_message_id: e.source_message_id.map(|m| m.to_string()),
            hits: i64::try_from(e.hits).unwrap_or(i64::MAX),
            last_used: e.last_used,
            created_at: e.created_at,
            expires_at: e.expires_at,
        }
    }

    fn into_domain(self) -> Result<CacheRecord, DbError> {
        Ok(CacheRecord {
            id: parse("cache entry id", &self.id)?,
            connection_id: parse("connection id", &self.connection_id)?,
            schema_fingerprint: self.schema_fingerprint,
            semantic_version: u32::try_from(self.semantic_version).map_err(|_| {
                DbError::corrupt(format!("semantic version {}", self.semantic_version))
            })?,
            question: self.question,
            normalized: self.normalized,
            guards: self.guards,
            embedder: self.embedder,
            embedding: decode_vector(&self.embedding)?,
            sql: self.sql_text,
            source_message_id: self
                .source_message_id
                .as_deref()
                .map(|m| parse("message id", m))
                .transpose()?,
            hits: u64::try_from(self.hits).unwrap_or(0),
            last_used: self.last_used,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

fn rows_into(rows: Vec<CacheRow>) -> Result<Vec<CacheRecord>, DbError> {
    rows.into_iter().map(CacheRow::into_domain).collect()
}

#[async_trait::async_trait]
impl CacheStore for Store {
    async fn put_cache_entry(&self, entry: &CacheRecord, max_entries: u64) -> StoreResult<()> {
        self.put_cache_entries(std::slice::from_ref(entry), max_entries)
            .await
    }

    async fn put_cache_entries(
        &self,
        entries: &[CacheRecord],
        max_entries: u64,
    ) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows: Vec<CacheRow> = entries.iter().map(CacheRow::from_domain).collect();
        let max = i64::try_from(max_entries).unwrap_or(i64::MAX);
        with_write!(self, c => {
            let rows = &rows;
            c.transaction::<_, DbError, _>(async |c| {
                for row in rows {
                    diesel::delete(
                        cache_entries::table
                            .filter(cache_entries::connection_id.eq(&row.connection_id))
                            .filter(cache_entries::schema_fingerprint.eq(&row.schema_fingerprint))
                            .filter(cache_entries::semantic_version.eq(row.semantic_version))
                            .filter(cache_entries::normalized.eq(&row.normalized)),
                    )
                    .execute(c)
                    .await?;
                    diesel::insert_into(cache_entries::table).values(row).execute(c).await?;
                }
                // Each connection once: in sorted order, so concurrent writers on
                // PostgreSQL take their locks in the same order.
                let mut connections: Vec<(&str, i64)> = rows
                    .iter()
                    .map(|r| (r.connection_id.as_str(), r.created_at))
                    .collect();
                connections.sort_unstable();
                connections.dedup_by(|a, b| a.0 == b.0);
                for (connection, now) in connections {
                    diesel::delete(
                        cache_entries::table
                            .filter(cache_entries::connection_id.eq(connection))
                            .filter(cache_entries::expires_at.le(now)),
                    )
                    .execute(c)
                    .await?;
                    let n: i64 = cache_entries::table
                        .filter(cache_entries::connection_id.eq(connection))
                        .select(count_star())
                        .limit_one()
                        .get_result(c)
                        .await?;
                    if n > max {
                        // The least recently used ids, then one DELETE by primary key:
                        // concurrent writers never hold locks on each other's rows while
                        // waiting.
                        let victims: Vec<String> = cache_entries::table
                            .filter(cache_entries::connection_id.eq(connection))
                            .order((cache_entries::last_used.asc(), cache_entries::id.asc()))
                            .limit(n - max)
                            .select(cache_entries::id)
                            .load(c)
                            .await?;
                        diesel::delete(cache_entries::table.filter(cache_entries::id.eq_any(victims)))
                            .execute(c)
                            .await?;
                    }
                }
                Ok(())
            })
            .await
        })
    }

    async fn cache_entry_live(&self, id: CacheEntryId, now: UnixMillis) -> StoreResult<bool> {
        let id = id.to_string();
        with_conn_sync!(self,
        move |c| crate::sync::cache_entry_live(c, &id, now),
        c => {
            let n: i64 = crate::sync::q_cache_entry_live!(&id, now).get_result(c).await?;
            Ok(n > 0)
        })
    }

    async fn record_cache_use(
        &self,
        counts: &[(ConnectionId, CacheCounters)],
        hits: &[(CacheEntryId, u64, UnixMillis)],
    ) -> StoreResult<()> {
        if counts.is_empty() && hits.is_empty() {
            return Ok(());
        }
        // Sorted, so concurrent writers on PostgreSQL lock rows in the same order.
        let mut counts: Vec<(String, i64, i64, i64)> = counts
            .iter()
            .map(|(id, k)| {
                let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
                (
                    id.to_string(),
                    n(k.exact_hits),
                    n(k.similar_hits),
                    n(k.misses),
                )
            })
            .collect();
        counts.sort_unstable();
        let mut hits: Vec<(String, i64, i64)> = hits
            .iter()
            .map(|(id, n, at)| (id.to_string(), i64::try_from(*n).unwrap_or(i64::MAX), *at))
            .collect();
        hits.sort_unstable();
        with_write!(self, c => {
            let (counts, hits) = (&counts, &hits);
            c.transaction::<_, DbError, _>(async |c| {
                for (id, e, s, m) in counts {
                    diesel::insert_into(cache_counters::table)
                        .values((
                            cache_counters::connection_id.eq(id),
                            cache_counters::exact_hits.eq(e),
                            cache_counters::similar_hits.eq(s),
                            cache_counters::misses.eq(m),
                        ))
                        .on_conflict(cache_counters::connection_id)
                        .do_update()
                        .set((
                            cache_counters::exact_hits.eq(cache_counters::exact_hits + e),
                            cache_counters::similar_hits.eq(cache_counters::similar_hits + s),
                            cache_counters::misses.eq(cache_counters::misses + m),
                        ))
                        .kept()
                        .execute(c)
                        .await?;
                }
                for (id, n, at) in hits {
                    diesel::update(cache_entries::table.find(id))
                        .set(cache_entries::hits.eq(cache_entries::hits + n))
                        .kept()
                        .execute(c)
                        .await?;
                    diesel::update(
                        cache_entries::table
                            .find(id)
                            .filter(cache_entries::last_used.lt(at)),
                    )
                    .set(cache_entries::last_used.eq(at))
                    .kept()
                    .execute(c)
                    .await?;
                }
                Ok(())
            })
            .await
        })
    }

    async fn cache_entry(&self, id: CacheEntryId) -> StoreResult<CacheRecord> {
        with_conn!(self, c => {
            let row: CacheRow = cache_entries::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn cache_entries_of(
        &self,
        connection: ConnectionId,
        now: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<CacheRecord>> {
        with_conn!(self, c => {
            let rows: Vec<CacheRow> = cache_entries::table
                .filter(cache_entries::connection_id.eq(connection.to_string()))
                .filter(cache_entries::expires_at.gt(now))
                .order((cache_entries::last_used.desc(), cache_entries::id.desc()))
                .limit(limit)
                .load(c)
                .await?;
            Ok(rows_into(rows)?)
        })
    }

    async fn find_cache_entry(
        &self,
        connection: ConnectionId,
        schema_fingerprint: &str,
        semantic_version: u32,
        normalized: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<CacheRecord>> {
        let (fp, norm) = (schema_fingerprint.to_owned(), normalized.to_owned());
        with_conn!(self, c => {
            let row: Option<CacheRow> = cache_entries::table
                .filter(cache_entries::connection_id.eq(connection.to_string()))
                .filter(cache_entries::schema_fingerprint.eq(fp.clone()))
                .filter(cache_entries::semantic_version.eq(i64::from(semantic_version)))
                .filter(cache_entries::normalized.eq(norm.clone()))
                .filter(cache_entries::expires_at.gt(now))
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(row.map(CacheRow::into_domain).transpose()?)
        })
    }

    async fn touch_cache_entry(&self, id: CacheEntryId, now: UnixMillis) -> StoreResult<bool> {
        with_write!(self, c => {
            let n = diesel::update(
                cache_entries::table
                    .find(id.to_string())
                    .filter(cache_entries::expires_at.gt(now)),
            )
            .set((
                cache_entries::hits.eq(cache_entries::hits + 1),
                cache_entries::last_used.eq(now),
            ))
            .execute(c)
            .await?;
            Ok(n > 0)
        })
    }

    async fn list_cache_entries(
        &self,
        connections: &[ConnectionId],
        now: UnixMillis,
        page: &Page,
    ) -> StoreResult<Vec<CacheRecord>> {
        let ids: Vec<String> = connections.iter().map(|c| c.to_string()).collect();
        with_conn!(self, c => {
            let mut q = cache_entries::table
                .filter(cache_entries::connection_id.eq_any(ids.clone()))
                .filter(cache_entries::expires_at.gt(now))
                .order(cache_entries::id.asc())
                .limit(page.limit)
                .into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(cache_entries::id.gt(after.clone()));
            }
            let rows: Vec<CacheRow> = q.load(c).await?;
            Ok(rows_into(rows)?)
        })
    }

    async fn delete_cache_entry(&self, id: CacheEntryId) -> StoreResult<bool> {
        with_write!(self, c => {
            let n = diesel::delete(cache_entries::table.find(id.to_string())).execute(c).await?;
            Ok(n > 0)
        })
    }

    async fn delete_cache_entries_for(
        &self,
        connection: ConnectionId,
        normalized: &str,
    ) -> StoreResult<u64> {
        let norm = normalized.to_owned();
        with_write!(self, c => {
            let n = diesel::delete(
                cache_entries::table
                    .filter(cache_entries::connection_id.eq(connection.to_string()))
                    .filter(cache_entries::normalized.eq(norm.clone())),
            )
            .execute(c)
            .await?;
            Ok(n as u64)
        })
    }

    async fn clear_cache(
        &self,
        connection: ConnectionId,
        keep_fingerprint: Option<&str>,
    ) -> StoreResult<u64> {
        let keep = keep_fingerprint.map(str::to_owned);
        with_write!(self, c => {
            let mut q = diesel::delete(cache_entries::table)
                .filter(cache_entries::connection_id.eq(connection.to_string()))
                .into_boxed();
            if let Some(fp) = &keep {
                q = q.filter(cache_entries::schema_fingerprint.ne(fp.clone()));
            }
            let n = q.execute(c).await?;
            Ok(n as u64)
        })
    }

    async fn count_cache(
        &self,
        connection: ConnectionId,
        outcome: CacheOutcome,
    ) -> StoreResult<()> {
        // One outcome is a batch of one.
        let counts = CacheCounters {
            exact_hits: u64::from(outcome == CacheOutcome::ExactHit),
            similar_hits: u64::from(outcome == CacheOutcome::SimilarHit),
            misses: u64::from(outcome == CacheOutcome::Miss),
        };
        self.record_cache_use(&[(connection, counts)], &[]).await
    }

    async fn cache_stats(
        &self,
        connections: &[ConnectionId],
        now: UnixMillis,
    ) -> StoreResult<Vec<(ConnectionId, CacheCounters, u64)>> {
        let ids: Vec<String> = connections.iter().map(|c| c.to_string()).collect();
        let (counters, sizes) = with_conn!(self, c => {
            let counters: Vec<(String, i64, i64, i64)> = cache_counters::table
                .filter(cache_counters::connection_id.eq_any(ids.clone()))
                .select((
                    cache_counters::connection_id,
                    cache_counters::exact_hits,
                    cache_counters::similar_hits,
                    cache_counters::misses,
                ))
                .load(c)
                .await?;
            let sizes: Vec<(String, i64)> = cache_entries::table
                .filter(cache_entries::connection_id.eq_any(ids.clone()))
                .filter(cache_entries::expires_at.gt(now))
                .group_by(cache_entries::connection_id)
                .select((cache_entries::connection_id, count_star()))
                .load(c)
                .await?;
            Ok((counters, sizes))
        })?;
        let mut out = Vec::with_capacity(connections.len());
        for conn in connections {
            let key = conn.to_string();
            let counters = counters
                .iter()
                .find(|(id, ..)| *id == key)
                .map(|(_, e, s, m)| CacheCounters {
                    exact_hits: u64::try_from(*e).unwrap_or(0),
                    similar_hits: u64::try_from(*s).unwrap_or(0),
                    misses: u64::try_from(*m).unwrap_or(0),
                })
                .unwrap_or_default();
            let size = sizes
                .iter()
                .find(|(id, _)| *id == key)
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            out.push((*conn, counters, size));
        }
        Ok(out)
    }
}

#[derive(Queryable, Insertable, AsChangeset)]
#[diesel(table_name = examples)]
struct ExampleRow {
    id: String,
    team_id: String,
    connection_id: String,
    question: String,
    sql_text: String,
    source: String,
    message_id: Option<String>,
    verified_by: String,
    created_at: i64,
    updated_at: i64,
}

impl ExampleRow {
    fn from_domain(e: &Example) -> Self {
        Self {
            id: e.id.to_string(),
            team_id: e.team_id.to_string(),
            connection_id: e.connection_id.to_string(),
            question: e.question.clone(),
            sql_text: e.sql.clone(),
            source: e.source.as_str().to_owned(),
            message_id: e.message_id.map(|m| m.to_string()),
            verified_by: e.verified_by.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }

    fn into_domain(self) -> Result<Example, DbError> {
        Ok(Example {
            id: parse("example id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            connection_id: parse("connection id", &self.connection_id)?,
            question: self.question,
            sql: self.sql_text,
            source: ExampleSource::parse(&self.source)
                .ok_or_else(|| DbError::corrupt(format!("example source `{}`", self.source)))?,
            message_id: self
                .message_id
                .as_deref()
                .map(|m| parse("message id", m))
                .transpose()?,
            verified_by: self.verified_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn examples_into(rows: Vec<ExampleRow>) -> Result<Vec<Example>, DbError> {
    rows.into_iter().map(ExampleRow::into_domain).collect()
}

#[async_trait::async_trait]
impl ExampleStore for Store {
    async fn insert_example(&self, example: &Example) -> StoreResult<()> {
        let row = ExampleRow::from_domain(example);
        with_write!(self, c => {
            diesel::insert_into(examples::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    async fn get_example(&self, id: ExampleId) -> StoreResult<Example> {
        with_conn!(self, c => {
            let row: ExampleRow = examples::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn update_example(&self, example: &Example) -> StoreResult<()> {
        let row = ExampleRow::from_domain(example);
        with_write!(self, c => {
            let n = diesel::update(examples::table.find(&row.id))
                .set((
                    examples::question.eq(&row.question),
                    examples::sql_text.eq(&row.sql_text),
                    examples::source.eq(&row.source),
                    examples::verified_by.eq(&row.verified_by),
                    examples::updated_at.eq(row.updated_at),
                ))
                .execute(c)
                .await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    async fn delete_example(&self, id: ExampleId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(examples::table.find(id.to_string())).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    async fn list_examples(
        &self,
        teams: &[TeamId],
        connection: Option<ConnectionId>,
        page: &Page,
    ) -> StoreResult<Vec<Example>> {
        let ids: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        with_conn!(self, c => {
            let mut q = examples::table
                .filter(examples::team_id.eq_any(ids.clone()))
                .order(examples::id.asc())
                .limit(page.limit)
                .into_boxed();
            if let Some(conn) = connection {
                q = q.filter(examples::connection_id.eq(conn.to_string()));
            }
            if let Some(after) = &page.after {
                q = q.filter(examples::id.gt(after.clone()));
            }
            let rows: Vec<ExampleRow> = q.load(c).await?;
            Ok(examples_into(rows)?)
        })
    }

    async fn examples_of(&self, connection: ConnectionId, limit: i64) -> StoreResult<Vec<Example>> {
        with_conn!(self, c => {
            let rows: Vec<ExampleRow> = examples::table
                .filter(examples::connection_id.eq(connection.to_string()))
                .order((examples::created_at.desc(), examples::id.desc()))
                .literal_limit(limit)
                .load(c)
                .await?;
            Ok(examples_into(rows)?)
        })
    }

    async fn example_of_message(&self, message: MessageId) -> StoreResult<Option<Example>> {
        with_conn!(self, c => {
            let row: Option<ExampleRow> = examples::table
                .filter(examples::message_id.eq(message.to_string()))
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(row.map(ExampleRow::into_domain).transpose()?)
        })
    }
}
