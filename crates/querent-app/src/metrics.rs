//! Prometheus metrics (design §9): one registry per [`App`], so two servers in one process
//! (as in the tests) never mix their figures. The services record what they do here; the
//! HTTP layer records requests and serves [`App::metrics_text`] at `GET /metrics`.
//!
//! Series (Prometheus text format 0.0.4; counters end in `_total`):
//!
//! | series | labels |
//! |---|---|
//! | `querent_http_requests_total` | `method`, `route` (the route template, `unmatched` when none), `status` |
//! | `querent_http_request_duration_seconds` (histogram) | `method`, `route` |
//! | `querent_chat_stage_duration_seconds` (histogram) | `stage`: `linking`, `cache`, `generating`, `validating`, `executing` |
//! | `querent_chat_answers_total` | `status`: `executed`, `cached`, `pending_approval`, `query_only`, `error` |
//! | `querent_cache_lookups_total` | `outcome`: `exact_hit`, `similar_hit`, `miss` |
//! | `querent_cache_evictions_total` | |
//! | `querent_provider_calls_total` | `provider`, `outcome`: `ok`, `error` |
//! | `querent_provider_tokens_total` | `provider`, `kind`: `prompt`, `completion` |
//! | `querent_provider_cost_usd_total` | `provider` |
//! | `querent_guard_refusals_total` | `code`: `guard_rejected`, `policy_violation` |
//! | `querent_sse_streams_open` (gauge) | |
//! | `querent_workflow_runs_total` | `trigger`, `outcome`: `succeeded`, `failed` |
//! | `querent_store_pool_connections` (gauge) | `state`: `size`, `in_use` |
//! | `querent_target_pools` (gauge) | `state`: `open`, `exhausted` |
//! | `querent_target_pool_connections_in_use` (gauge) | |
//! | `querent_target_pool_connections` (gauge) | `connection` (id), `state`: `max`, `open`, `in_use` |
//! | `querent_target_pool_waiting` (gauge) | `connection` |
//! | `querent_target_pool_waits_total` | `connection`: queries that found the pool full and waited |
//!
//! Label values come from bounded sets (route templates, codes, configured provider names,
//! ids of connections with an open pool), never from request data, so the number of series
//! stays small. A pool's gauges go when it closes.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use querent_domain::learning::CacheOutcome;
use querent_domain::query::{
    CheckedSql, ConnectionPoolStats, ExecError, GuardRejection, PoolStatus, QueryEngine,
    QueryOutcome, QueryRequest, RowSink, TokenUsage,
};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionId, Dialect, ErrorCode, MessageStatus, PrivacyPolicy};

use crate::chat::StageTimings;
use crate::{App, ServiceError, ServiceResult};

/// The `Content-Type` of [`App::metrics_text`]'s answer.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Labels<const N: usize> = [(&'static str, String); N];
type Histograms<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's metrics. Cheap to clone; clones share the figures.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

struct Inner {
    registry: Registry,
    http_requests: Family<Labels<3>, Counter>,
    http_duration: Histograms<2>,
    chat_stages: Histograms<1>,
    chat_answers: Family<Labels<1>, Counter>,
    cache_lookups: Family<Labels<1>, Counter>,
    cache_evictions: Counter,
    provider_calls: Family<Labels<2>, Counter>,
    provider_tokens: Family<Labels<2>, Counter>,
    provider_cost: Family<Labels<1>, Counter<f64, std::sync::atomic::AtomicU64>>,
    guard_refusals: Family<Labels<1>, Counter>,
    sse_open: Gauge,
    workflow_runs: Family<Labels<2>, Counter>,
    store_pool: Family<Labels<1>, Gauge>,
    target_pools: Family<Labels<1>, Gauge>,
    target_in_use: Gauge,
    connection_pool: Family<Labels<2>, Gauge>,
    connection_waiting: Family<Labels<1>, Gauge>,
    connection_waits: Family<Labels<1>, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every series declared.
    #[allow(clippy::too_many_lines)] // one registration per series, read top to bottom
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::default();
        registry.register(
            "querent_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<2> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "querent_http_request_duration_seconds",
            "Time to answer an HTTP request (to the first byte of a stream), by method and route template",
            http_duration.clone(),
        );
        let chat_stages: Histograms<1> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "querent_chat_stage_duration_seconds",
            "Time spent in each stage of a chat answer (linking, cache, generating, validating, executing)",
            chat_stages.clone(),
        );
        let chat_answers = Family::default();
        registry.register(
            "querent_chat_answers",
            "Chat answers finished, by status",
            chat_answers.clone(),
        );
        let cache_lookups = Family::default();
        registry.register(
            "querent_cache_lookups",
            "Semantic cache lookups, by outcome (exact_hit, similar_hit, miss)",
            cache_lookups.clone(),
        );
        let cache_evictions = Counter::default();
        registry.register(
            "querent_cache_evictions",
            "Semantic cache entries evicted (thumbs-down, no longer valid, failed to run)",
            cache_evictions.clone(),
        );
        let provider_calls = Family::default();
        registry.register(
            "querent_provider_calls",
            "Calls to SQL providers, by provider and outcome",
            provider_calls.clone(),
        );
        let provider_tokens = Family::default();
        registry.register(
            "querent_provider_tokens",
            "Tokens used by SQL providers, by provider and kind (prompt, completion)",
            provider_tokens.clone(),
        );
        let provider_cost = Family::default();
        registry.register(
            "querent_provider_cost_usd",
            "Cost of provider calls in US dollars, by provider (when its price is configured)",
            provider_cost.clone(),
        );
        let guard_refusals = Family::default();
        registry.register(
            "querent_guard_refusals",
            "Statements the SQL guard refused, by error code",
            guard_refusals.clone(),
        );
        let sse_open = Gauge::default();
        registry.register(
            "querent_sse_streams_open",
            "Server-sent event streams open right now",
            sse_open.clone(),
        );
        let workflow_runs = Family::default();
        registry.register(
            "querent_workflow_runs",
            "Workflow runs finished on this instance, by trigger and outcome",
            workflow_runs.clone(),
        );
        let store_pool = Family::default();
        registry.register(
            "querent_store_pool_connections",
            "Metadata store pool: its size and the connections in use",
            store_pool.clone(),
        );
        let target_pools = Family::default();
        registry.register(
            "querent_target_pools",
            "Target database pools open, and those exhausted (every connection busy, callers waiting)",
            target_pools.clone(),
        );
        let target_in_use = Gauge::default();
        registry.register(
            "querent_target_pool_connections_in_use",
            "Target database connections checked out right now",
            target_in_use.clone(),
        );
        let connection_pool = Family::default();
        registry.register(
            "querent_target_pool_connections",
            "Each target connection's pool: the most connections it may open (max), those open and those checked out (in_use), by connection id",
            connection_pool.clone(),
        );
        let connection_waiting = Family::default();
        registry.register(
            "querent_target_pool_waiting",
            "Callers waiting for a connection of a target connection's pool right now, by connection id",
            connection_waiting.clone(),
        );
        let connection_waits = Family::default();
        registry.register(
            "querent_target_pool_waits",
            "Queries that found every connection of their target connection's pool busy and waited, by connection id",
            connection_waits.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                http_requests,
                http_duration,
                chat_stages,
                chat_answers,
                cache_lookups,
                cache_evictions,
                provider_calls,
                provider_tokens,
                provider_cost,
                guard_refusals,
                sse_open,
                workflow_runs,
                store_pool,
                target_pools,
                target_in_use,
                connection_pool,
                connection_waiting,
                connection_waits,
            }),
        }
    }

    /// Records an answered HTTP request. `route` is the matched route template
    /// (`/api/v1/connections/{id}`), `None` when no route matched.
    pub fn http_request(&self, method: &str, route: Option<&str>, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched").to_owned();
        let method = method.to_owned();
        self.inner
            .http_requests
            .get_or_create(&[
                ("method", method.clone()),
                ("route", route.clone()),
                ("status", status.to_string()),
            ])
            .inc();
        self.inner
            .http_duration
            .get_or_create(&[("method", method), ("route", route)])
            .observe(took.as_secs_f64());
    }

    /// Counts an open server-sent event stream until the returned guard is dropped.
    pub fn stream_opened(&self) -> StreamGuard {
        self.inner.sse_open.inc();
        StreamGuard(self.inner.sse_open.clone())
    }

    /// Records a finished chat answer: its status and the time of each stage it went
    /// through (stages not run are not observed).
    pub(crate) fn chat_answer(&self, status: MessageStatus, t: &StageTimings) {
        self.inner
            .chat_answers
            .get_or_create(&[("status", status.to_string())])
            .inc();
        for (stage, us) in [
            ("linking", t.linking_us),
            ("cache", t.cache_us),
            ("generating", t.generating_us),
            ("validating", t.validating_us),
            ("executing", t.executing_us),
        ] {
            if us > 0 {
                self.inner
                    .chat_stages
                    .get_or_create(&[("stage", stage.to_owned())])
                    .observe(us as f64 / 1e6);
            }
        }
    }

    /// Records a cache lookup's outcome.
    pub(crate) fn cache_lookup(&self, outcome: CacheOutcome) {
        let outcome = match outcome {
            CacheOutcome::ExactHit => "exact_hit",
            CacheOutcome::SimilarHit => "similar_hit",
            CacheOutcome::Miss => "miss",
        };
        self.inner
            .cache_lookups
            .get_or_create(&[("outcome", outcome.to_owned())])
            .inc();
    }

    /// Records an evicted cache entry.
    pub(crate) fn cache_eviction(&self) {
        self.cache_evictions(1);
    }

    /// Records `n` evicted cache entries.
    pub(crate) fn cache_evictions(&self, n: u64) {
        self.inner.cache_evictions.inc_by(n);
    }

    /// Records a provider call: whether it answered, the tokens it used and its cost.
    pub(crate) fn provider_call(
        &self,
        provider: &str,
        ok: bool,
        usage: TokenUsage,
        cost_usd: Option<f64>,
    ) {
        let p = provider.to_owned();
        let outcome = if ok { "ok" } else { "error" };
        self.inner
            .provider_calls
            .get_or_create(&[("provider", p.clone()), ("outcome", outcome.to_owned())])
            .inc();
        for (kind, n) in [
            ("prompt", usage.prompt_tokens),
            ("completion", usage.completion_tokens),
        ] {
            self.inner
                .provider_tokens
                .get_or_create(&[("provider", p.clone()), ("kind", kind.to_owned())])
                .inc_by(n);
        }
        if let Some(cost) = cost_usd.filter(|c| c.is_finite() && *c > 0.0) {
            self.inner
                .provider_cost
                .get_or_create(&[("provider", p)])
                .inc_by(cost);
        }
    }

    /// Records a statement the guard refused.
    pub(crate) fn guard_refusal(&self, code: ErrorCode) {
        self.inner
            .guard_refusals
            .get_or_create(&[("code", code.as_str().to_owned())])
            .inc();
    }

    /// Records a finished workflow run.
    pub(crate) fn workflow_run(&self, trigger: &str, succeeded: bool) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.inner
            .workflow_runs
            .get_or_create(&[
                ("trigger", trigger.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    /// The registry in the Prometheus text format.
    fn encode(&self) -> ServiceResult<String> {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.inner.registry)
            .map_err(|e| ServiceError::internal(format!("could not encode the metrics: {e}")))?;
        Ok(out)
    }
}

/// Keeps `querent_sse_streams_open` counted while alive.
#[derive(Debug)]
pub struct StreamGuard(Gauge);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The engine port as the services see it: the adapter, with every refusal of the guard
/// counted, whichever service asked (chat, `/sql`, saved queries, dashboards, workflows…).
pub(crate) struct MeteredEngine {
    pub(crate) inner: Arc<dyn QueryEngine>,
    pub(crate) metrics: Metrics,
}

#[async_trait::async_trait]
impl QueryEngine for MeteredEngine {
    fn check(
        &self,
        dialect: Dialect,
        sql: &str,
        schema: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        max_rows: u64,
    ) -> Result<CheckedSql, GuardRejection> {
        let checked = self.inner.check(dialect, sql, schema, policy, max_rows);
        if let Err(r) = &checked {
            self.metrics.guard_refusal(r.code);
        }
        checked
    }

    async fn run(
        &self,
        request: QueryRequest<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, ExecError> {
        let outcome = self.inner.run(request, sink).await;
        if let Err(ExecError::Rejected(r)) = &outcome {
            self.metrics.guard_refusal(r.code);
        }
        outcome
    }

    fn forget(&self, connection: ConnectionId) {
        self.inner.forget(connection);
    }

    fn pool_status(&self) -> PoolStatus {
        self.inner.pool_status()
    }

    fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        self.inner.connection_pools()
    }
}

/// The purpose under which `/metrics` bearer tokens are compared (as MACs, in constant time).
const TOKEN_PURPOSE: &str = "querent-metrics-token-v1";

impl App {
    /// The server's metrics, for the HTTP layer to record requests and streams.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `GET /metrics`: every series in the Prometheus text format. When a metrics token is
    /// configured the caller must present it as a bearer token (`unauthorized` otherwise);
    /// without one the endpoint is open, like `/health`.
    pub async fn metrics_text(&self, bearer: Option<&str>) -> ServiceResult<String> {
        if let Some(expected) = &self.config().metrics_token {
            let crypto = self.crypto();
            let (key_id, tag) = crypto.mac(TOKEN_PURPOSE, expected.expose().as_bytes());
            let presented = bearer.unwrap_or("");
            if !crypto.verify_mac(&key_id, TOKEN_PURPOSE, presented.as_bytes(), &tag) {
                return Err(ServiceError::new(
                    ErrorCode::Unauthorized,
                    "the metrics endpoint needs its bearer token",
                ));
            }
        }
        let m = &self.inner.metrics.inner;
        let store = self.store().health();
        m.store_pool
            .get_or_create(&[("state", "size".to_owned())])
            .set(store.size as i64);
        m.store_pool
            .get_or_create(&[("state", "in_use".to_owned())])
            .set(store.in_use as i64);
        let targets = self.engine().pool_status();
        m.target_pools
            .get_or_create(&[("state", "open".to_owned())])
            .set(targets.pools as i64);
        m.target_pools
            .get_or_create(&[("state", "exhausted".to_owned())])
            .set(targets.exhausted as i64);
        m.target_in_use.set(targets.in_use as i64);
        // Gauges of pools that closed since the last scrape go; the waits counter stays.
        m.connection_pool.clear();
        m.connection_waiting.clear();
        for p in self.engine().connection_pools() {
            let id = p.connection.to_string();
            for (state, v) in [("max", p.max_size), ("open", p.open), ("in_use", p.in_use)] {
                m.connection_pool
                    .get_or_create(&[("connection", id.clone()), ("state", state.to_owned())])
                    .set(i64::try_from(v).unwrap_or(i64::MAX));
            }
            m.connection_waiting
                .get_or_create(&[("connection", id.clone())])
                .set(i64::try_from(p.waiting).unwrap_or(i64::MAX));
            let waits = m.connection_waits.get_or_create(&[("connection", id)]);
            waits.inc_by(p.waits.saturating_sub(waits.get()));
        }
        self.inner.metrics.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_encoded_with_their_labels() {
        let m = Metrics::new();
        m.http_request(
            "GET",
            Some("/api/v1/connections/{id}"),
            200,
            Duration::from_millis(3),
        );
        m.http_request("GET", None, 404, Duration::from_millis(1));
        m.guard_refusal(ErrorCode::PolicyViolation);
        m.provider_call(
            "offline",
            true,
            TokenUsage {
                prompt_tokens: 10,
                completion_tokens: 5,
            },
            Some(0.25),
        );
        let guard = m.stream_opened();
        let text = m.encode().unwrap();
        assert!(text.contains(
            "querent_http_requests_total{method=\"GET\",route=\"/api/v1/connections/{id}\",status=\"200\"} 1"
        ));
        assert!(text.contains("route=\"unmatched\",status=\"404\"} 1"));
        assert!(text.contains("querent_guard_refusals_total{code=\"policy_violation\"} 1"));
        assert!(
            text.contains("querent_provider_tokens_total{provider=\"offline\",kind=\"prompt\"} 10")
        );
        assert!(text.contains("querent_provider_cost_usd_total{provider=\"offline\"} 0.25"));
        assert!(text.contains("querent_sse_streams_open 1"));
        drop(guard);
        assert!(m.encode().unwrap().contains("querent_sse_streams_open 0"));
    }
}
