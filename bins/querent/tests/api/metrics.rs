//! `GET /metrics`: the Prometheus text format, read by a strict parser of the format
//! (0.0.4) below, and the series a chat, a cache hit, a guard refusal and a stream move;
//! the optional bearer token.

use std::collections::BTreeMap;

use querent_domain::{ErrorCode, MessageStatus};
use querent_test_support::TestApp;
use serde_json::json;

/// One scrape: every sample by name and sorted labels, and every family's declared type.
#[derive(Debug, Default)]
struct Scrape {
    samples: BTreeMap<(String, Vec<(String, String)>), f64>,
    types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the text format strictly: `# HELP` and `# TYPE` once per family before its
    /// samples, samples of a family together and named after it (`_bucket`, `_sum`,
    /// `_count` for histograms), label values quoted with the format's escapes, values as
    /// Go floats, histogram buckets cumulative and ending in `+Inf` equal to `_count`, no
    /// duplicate series, one newline at the end.
    fn parse(text: &str) -> Self {
        assert!(text.ends_with('\n'), "the exposition ends with a newline");
        let mut s = Scrape::default();
        let mut helped = std::collections::BTreeSet::new();
        let mut current: Option<String> = None;
        let mut finished = std::collections::BTreeSet::new();
        for line in text.lines() {
            assert!(!line.is_empty(), "no empty lines: {text}");
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP name text");
                check_name(name);
                assert!(!help.is_empty(), "{line}");
                assert!(helped.insert(name.to_owned()), "HELP twice for {name}");
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                check_name(name);
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                assert!(helped.contains(name), "HELP before TYPE for {name}");
                assert!(
                    s.types.insert(name.to_owned(), kind.to_owned()).is_none(),
                    "TYPE twice for {name}"
                );
                if let Some(previous) = current.replace(name.to_owned()) {
                    finished.insert(previous);
                }
                continue;
            }
            assert!(!line.starts_with('#'), "unknown comment line {line}");
            let (name, labels, value) = sample(line);
            let family = current.as_deref().expect("a sample after its TYPE");
            let kind = &s.types[family];
            let allowed = match kind.as_str() {
                "histogram" => vec![
                    format!("{family}_bucket"),
                    format!("{family}_sum"),
                    format!("{family}_count"),
                ],
                _ => vec![family.to_owned()],
            };
            assert!(
                allowed.contains(&name),
                "{name} does not belong to family {family} ({kind})"
            );
            assert!(!finished.contains(family), "samples of {family} split up");
            if kind == "counter" {
                assert!(value >= 0.0 && name.ends_with("_total"), "{line}");
            }
            assert!(
                s.samples.insert((name, labels), value).is_none(),
                "duplicate series {line}"
            );
        }
        s.check_histograms();
        s
    }

    fn check_histograms(&self) {
        for (family, kind) in &self.types {
            if kind != "histogram" {
                continue;
            }
            let count = format!("{family}_count");
            for ((name, labels), total) in &self.samples {
                if *name != count {
                    continue;
                }
                let mut buckets: Vec<(f64, f64)> = self
                    .samples
                    .iter()
                    .filter(|((n, l), _)| {
                        *n == format!("{family}_bucket")
                            && l.iter().filter(|(k, _)| k != "le").eq(labels.iter())
                    })
                    .map(|((_, l), v)| {
                        let le = &l.iter().find(|(k, _)| k == "le").expect("le").1;
                        (go_float(le), *v)
                    })
                    .collect();
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                assert!(!buckets.is_empty(), "{family}{labels:?} has buckets");
                assert!(
                    buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                    "cumulative buckets {buckets:?}"
                );
                let last = buckets.last().unwrap();
                assert!(last.0.is_infinite() && last.1 == *total, "{buckets:?}");
            }
        }
    }

    /// The value of `name` with exactly these labels (0 when the series is absent).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        l.sort();
        self.samples
            .get(&(name.to_owned(), l))
            .copied()
            .unwrap_or(0.0)
    }
}

fn check_name(name: &str) {
    let mut chars = name.chars();
    let first = chars.next().expect("a name");
    assert!(
        first.is_ascii_alphabetic() || first == '_' || first == ':',
        "metric name {name}"
    );
    assert!(
        chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "metric name {name}"
    );
}

fn go_float(v: &str) -> f64 {
    match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => v.parse().unwrap_or_else(|_| panic!("not a float: {v}")),
    }
}

/// `name{k="v",…} value`: name, sorted labels, value.
fn sample(line: &str) -> (String, Vec<(String, String)>, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("sample {line}"));
    let name = &line[..name_end];
    check_name(name);
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            let Some(&(start, c)) = chars.peek() else {
                panic!("unterminated labels in {line}");
            };
            if c == '}' {
                chars.next();
                rest = &after[start + 1..];
                break;
            }
            let mut key = String::new();
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            check_name(&key);
            assert_eq!(
                chars.next().map(|x| x.1),
                Some('"'),
                "quoted value in {line}"
            );
            let mut value = String::new();
            loop {
                match chars.next().map(|x| x.1) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|x| x.1) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line}"),
                    },
                    Some(c) => value.push(c),
                    None => panic!("unterminated label value in {line}"),
                }
            }
            labels.push((key, value));
            match chars.peek().map(|x| x.1) {
                Some(',') => {
                    chars.next();
                }
                Some('}') => {}
                other => panic!("expected , or }} after a label, got {other:?} in {line}"),
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("a space before the value in {line}"));
    assert!(!value.contains(' '), "no timestamps are written: {line}");
    let before = labels.len();
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(labels.len(), before, "a label twice in {line}");
    (name.to_owned(), labels, go_float(value))
}

async fn scrape(app: &TestApp, token: Option<&str>) -> Scrape {
    let r = app.get("/metrics", token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ct = r.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    Scrape::parse(&r.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_chats_cache_hits_refusals_and_streams() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let before = scrape(&app, None).await;

    // A miss answered by the offline provider, then the same question from the cache (as
    // a stream), then a statement the guard refuses.
    let first = admin.ask(conn, "how many customers are there?").await;
    assert_eq!(first.status, MessageStatus::Executed);
    let second = admin
        .chat_stream(json!({"connection_id": conn, "message": "how many customers are there?"}))
        .await;
    assert_eq!(second.done.status, MessageStatus::Cached);
    let refused = admin
        .send(
            "POST",
            "/api/v1/sql/validate",
            Some(json!({"connection_id": conn, "sql": "DELETE FROM customers"})),
        )
        .await;
    assert_eq!(refused.status, 200);
    assert_eq!(refused.json["valid"], false);
    // A thumbs-down on the cached answer evicts its entry.
    let down = admin
        .send(
            "POST",
            &format!("/api/v1/chat/feedback/{}", second.done.message_id),
            Some(json!({"rating": "down"})),
        )
        .await;
    assert_eq!(down.status, 200, "{}", down.text);
    // A workflow run, started by hand and waited for.
    let q = admin
        .send(
            "POST",
            "/api/v1/queries",
            Some(json!({"name": "n", "connection_id": conn, "sql": "SELECT COUNT(*) FROM customers"})),
        )
        .await;
    assert_eq!(q.status, 201, "{}", q.text);
    let w = admin
        .send(
            "POST",
            "/api/v1/workflows",
            Some(json!({"name": "w", "steps": [{"type": "run_query", "query_id": q.str("id")}]})),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let run = admin
        .send(
            "POST",
            &format!("/api/v1/workflows/{}/run?wait=true", w.str("id")),
            Some(json!({})),
        )
        .await;
    assert_eq!(run.json["status"], "succeeded", "{}", run.text);

    let after = scrape(&app, None).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert_eq!(after.types["querent_http_requests_total"], "counter");
    assert_eq!(
        after.types["querent_chat_stage_duration_seconds"],
        "histogram"
    );
    let chat = [
        ("method", "POST"),
        ("route", "/api/v1/chat"),
        ("status", "200"),
    ];
    assert_eq!(moved("querent_http_requests_total", &chat), 2.0);
    assert_eq!(
        moved(
            "querent_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/api/v1/chat")]
        ),
        2.0
    );
    // The route template, never the path with its ids.
    assert!(
        after
            .samples
            .keys()
            .filter(|(n, _)| n == "querent_http_requests_total")
            .all(|(_, l)| !l
                .iter()
                .any(|(k, v)| k == "route" && v.contains(&conn.to_string()))),
        "routes are templates"
    );
    let stage = |s| moved("querent_chat_stage_duration_seconds_count", &[("stage", s)]);
    assert_eq!(stage("linking"), 2.0);
    assert_eq!(stage("cache"), 2.0);
    assert_eq!(
        stage("generating"),
        1.0,
        "the second answer came from the cache"
    );
    assert!(stage("validating") >= 1.0);
    assert_eq!(stage("executing"), 2.0);
    assert_eq!(
        moved("querent_chat_answers_total", &[("status", "executed")]),
        1.0
    );
    assert_eq!(
        moved("querent_chat_answers_total", &[("status", "cached")]),
        1.0
    );
    assert_eq!(
        moved("querent_cache_lookups_total", &[("outcome", "miss")]),
        1.0
    );
    assert_eq!(
        moved("querent_cache_lookups_total", &[("outcome", "exact_hit")]),
        1.0
    );
    assert_eq!(
        moved(
            "querent_provider_calls_total",
            &[("provider", "offline"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "querent_guard_refusals_total",
            &[("code", "guard_rejected")]
        ),
        1.0
    );
    assert!(moved("querent_cache_evictions_total", &[]) >= 1.0);
    assert_eq!(
        moved(
            "querent_workflow_runs_total",
            &[("trigger", "manual"), ("outcome", "succeeded")]
        ),
        1.0
    );
    // The stream was counted while open and is closed now.
    assert_eq!(after.types["querent_sse_streams_open"], "gauge");
    assert_eq!(after.value("querent_sse_streams_open", &[]), 0.0);
    assert!(after.value("querent_store_pool_connections", &[("state", "size")]) > 0.0);
    assert_eq!(after.types["querent_target_pools"], "gauge");
    assert!(after.samples.contains_key(&(
        "querent_target_pools".into(),
        vec![("state".into(), "open".into())]
    )));
    // The scrape itself is counted, under its own route.
    assert!(
        after.value(
            "querent_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        ) >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_is_asked_for_when_configured() {
    let app = TestApp::builder()
        .config(|c| c.metrics_token = Some("scrape-me-7f3a".into()))
        .spawn()
        .await;
    for token in [None, Some("wrong"), Some("")] {
        let r = app.get("/metrics", token).await;
        assert_eq!(r.status, 401, "{token:?}: {}", r.text);
        assert_eq!(r.str("code"), ErrorCode::Unauthorized.as_str());
    }
    let s = scrape(&app, Some("scrape-me-7f3a")).await;
    assert_eq!(s.types["querent_sse_streams_open"], "gauge");
}

/// Each target connection's pool is reported on its own: its size, connections open and in
/// use, callers waiting now and the waits so far. Nine queries on a pool of eight, all
/// blocked on a lock this test holds: eight connections in use, one caller waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_pools_are_reported_per_connection() {
    let Some(db) = querent_test_support::PgDatabase::create("target_pools_per_connection").await
    else {
        return;
    };
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
        .await
        .unwrap();
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let conn = admin
        .create_connection(
            json!({"name": "pg", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": db.name, "username": "postgres"}),
        )
        .await
        .id;
    let id = conn.to_string();
    // Hold a lock every query below waits for (waiting on a lock costs no CPU).
    let (locker, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    locker
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;")
        .await
        .unwrap();
    let query = || {
        let admin = admin.clone();
        tokio::spawn(async move { admin.run_sql(conn, "SELECT id FROM t").await })
    };
    let gauge = |s: &Scrape, state: &str| {
        s.value(
            "querent_target_pool_connections",
            &[("connection", &id), ("state", state)],
        )
    };
    // Eight queries take every connection; the ninth finds the pool full and waits.
    let mut queries: Vec<_> = (0..8).map(|_| query()).collect();
    scrape_until(&app, |s| gauge(s, "in_use") == 8.0).await;
    queries.push(query());
    let busy = scrape_until(&app, |s| {
        s.value("querent_target_pool_waiting", &[("connection", &id)]) == 1.0
    })
    .await;
    assert_eq!(busy.types["querent_target_pool_connections"], "gauge");
    assert_eq!(gauge(&busy, "max"), 8.0);
    assert_eq!(gauge(&busy, "open"), 8.0);
    assert_eq!(gauge(&busy, "in_use"), 8.0);
    assert_eq!(
        busy.value("querent_target_pool_waiting", &[("connection", &id)]),
        1.0
    );
    assert!(busy.value("querent_target_pool_waits_total", &[("connection", &id)]) >= 1.0);

    locker.batch_execute("COMMIT").await.unwrap();
    for q in queries {
        assert_eq!(q.await.unwrap().rows.len(), 1);
    }
    let after = scrape(&app, None).await;
    assert_eq!(gauge(&after, "in_use"), 0.0);
    assert_eq!(
        after.value("querent_target_pool_waiting", &[("connection", &id)]),
        0.0
    );
    assert!(after.value("querent_target_pool_waits_total", &[("connection", &id)]) >= 1.0);
    driver.abort();
}

/// Scrapes until `done` holds (for a minute at most).
async fn scrape_until(app: &TestApp, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..1200 {
        let s = scrape(app, None).await;
        if done(&s) {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the metrics never got there");
}
