//! More than one instance (design §9): two `querent serve` processes on one fresh
//! PostgreSQL store, every request alternating between them — login on A, refresh on B;
//! failed logins and the per-caller rate limit counted across both; ask on A, history and a
//! follow-up on B; `review_first` on A, approve on B; the cache filled on A, hit on B once
//! A's queued write landed, evicted on B and no longer served by A; an asynchronous
//! question asked on A and read on B; a scheduled workflow fired once per slot by the two
//! schedulers; then A killed mid-stream while B keeps serving. Skipped without PostgreSQL
//! (failed under `QUERENT_REQUIRE_SERVICES=1`).

use std::time::Duration;

use querent_domain::{ExecutionMode, MessageStatus};
use querent_test_support::views::Tokens;
use querent_test_support::{Client, PgDatabase, TestApp, parse_sse};
use serde_json::{Value, json};

use crate::served::Served;

const SHOP: &str = "
CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL, price NUMERIC(10,2) NOT NULL);
INSERT INTO products VALUES (1, 'Rust in Action', 39.90), (2, 'Chess Set', 15.00), (3, 'Go Board', 55.25);
";

/// Two servers on one store, sharing the master key (as instances behind a balancer do).
struct Pair {
    a: Served,
    b: Served,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Pair {
    fn start(store: &PgDatabase, extra: &[(&str, &str)]) -> Pair {
        let key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut env = vec![
            ("QUERENT_DATABASE_URL", store.url.as_str()),
            ("QUERENT_MASTER_KEY", key.as_str()),
            ("QUERENT_LOG_LEVEL", "warn"),
        ];
        env.extend_from_slice(extra);
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Started together: the migrations' advisory lock lets one of them migrate.
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| Served::start(dirs.0.path(), &env));
            let b = s.spawn(|| Served::start(dirs.1.path(), &env));
            (a.join().unwrap(), b.join().unwrap())
        });
        Pair { a, b, _dirs: dirs }
    }
}

/// An error answer's code.
fn code(r: &querent_test_support::Response) -> String {
    r.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_store_answer_alike() {
    let Some(store) = PgDatabase::create("two_instances_on_one_store_answer_alike").await else {
        return;
    };
    let Some(target) = PgDatabase::create("two_instances_on_one_store_answer_alike").await else {
        return;
    };
    target.execute(SHOP).await.unwrap();
    let pair = Pair::start(&store, &[]);
    let (a, b) = (pair.a.client(), pair.b.client());

    // Setup on A; its refresh token rotates on B, then on A; the rotated-out one is reuse
    // wherever it is presented, and kills the family on both.
    let setup = a
        .send(
            "POST",
            "/api/v1/auth/setup",
            Some(json!({"username": "admin", "password": "admin-password-1"})),
        )
        .await;
    assert_eq!(setup.status, 201, "{}", setup.text);
    let first: Tokens = b
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": setup.str("refresh_token")}),
        )
        .await;
    let second: Tokens = a
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh_token}),
        )
        .await;
    let reused = b
        .send(
            "POST",
            "/api/v1/auth/refresh",
            Some(json!({"refresh_token": first.refresh_token})),
        )
        .await;
    assert_eq!(
        (reused.status, code(&reused).as_str()),
        (401, "token_reused")
    );
    let dead = a
        .with_token(&second.access_token)
        .send("GET", "/api/v1/auth/me", None)
        .await;
    assert_eq!(dead.status, 401, "the family died on A too: {}", dead.text);

    // A new login on A works on B.
    let login = a.login("admin", "admin-password-1").await;
    let (admin_a, admin_b) = (
        a.with_token(&login.access_token),
        b.with_token(&login.access_token),
    );
    let _: Value = admin_b.get("/api/v1/auth/me").await;

    failed_logins_are_counted_across_instances(&admin_a, &a, &b).await;
    let conn_id = admin_a
        .create_connection(
            json!({"name": "shop", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": target.name, "username": "postgres"}),
        )
        .await
        .id;
    let conn = conn_id.to_string();

    // Ask on A; the history, and a follow-up in the same session, on B.
    let q = "how many products are there?";
    let asked = admin_a.ask(conn_id, q).await;
    assert_eq!(asked.status, MessageStatus::Executed, "{:?}", asked.json);
    assert!(!asked.cache_hit);
    let history: Value = admin_b
        .get(&format!("/api/v1/sessions/{}", asked.session_id))
        .await;
    assert_eq!(history["messages"][0]["question"], q, "{history}");
    assert_eq!(history["messages"][0]["status"], "executed", "{history}");
    let follow = admin_b
        .chat(
            json!({"connection_id": conn, "session_id": asked.session_id,
                     "message": "list the products"}),
        )
        .await;
    assert_eq!(follow.session_id, asked.session_id);
    assert_eq!(follow.status, MessageStatus::Executed, "{:?}", follow.json);

    the_cache_is_shared(&admin_a, &admin_b, &conn, q, &asked).await;
    approvals_cross_instances(&admin_a, &admin_b, conn_id).await;

    // An asynchronous question asked on A, read on B (whichever worker took it).
    let id = crate::questions::ask(&admin_a, json!({"connection_id": conn, "question": q})).await;
    let answered = crate::questions::finished(&admin_b, &id, "").await;
    assert_eq!(answered.state, "COMPLETED", "{answered:?}");

    a_scheduled_workflow_fires_once_per_slot(&admin_a, &admin_b, &conn).await;
    the_rate_limit_counts_across_instances(&admin_a, &admin_b).await;
    killed_mid_stream(pair, &login, &conn).await;
}

/// Failed logins on A and on B add up: five of them lock the account on both.
async fn failed_logins_are_counted_across_instances(admin: &Client, a: &Client, b: &Client) {
    let _: Value = admin
        .post(
            "/api/v1/users",
            json!({"username": "carol", "password": "carol-password-1"}),
        )
        .await;
    for i in 0..5 {
        let to = if i % 2 == 0 { a } else { b };
        let r = to
            .send(
                "POST",
                "/api/v1/auth/login",
                Some(json!({"username": "carol", "password": "wrong-password"})),
            )
            .await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (401, "invalid_credentials"),
            "attempt {i}"
        );
    }
    for to in [a, b] {
        let r = to
            .send(
                "POST",
                "/api/v1/auth/login",
                Some(json!({"username": "carol", "password": "carol-password-1"})),
            )
            .await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (429, "rate_limited"),
            "locked on every instance: {}",
            r.text
        );
    }
}

/// The answer A cached is B's exact hit once A's queued write landed (any read of the
/// cache on A waits for it); a thumbs-down on B evicts it, and A no longer serves it.
async fn the_cache_is_shared(
    admin_a: &Client,
    admin_b: &Client,
    conn: &str,
    q: &str,
    first: &querent_test_support::views::ChatAnswer,
) {
    let entries: Value = admin_a
        .get(&format!("/api/v1/cache/entries?connection_id={conn}"))
        .await;
    assert!(
        entries["items"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["question"] == q)),
        "{entries}"
    );
    let hit = admin_b.ask(conn.parse().unwrap(), q).await;
    assert!(hit.cache_hit, "B serves A's cached answer: {:?}", hit.json);
    assert_eq!(hit.status, MessageStatus::Cached);
    assert_eq!(hit.query, first.query);
    let down: Value = admin_b
        .post(
            &format!("/api/v1/chat/feedback/{}", hit.message_id),
            json!({"rating": "down"}),
        )
        .await;
    assert!(
        down["cache_entries_removed"].as_u64().unwrap() >= 1,
        "{down}"
    );
    let again = admin_a.ask(conn.parse().unwrap(), q).await;
    assert!(
        !again.cache_hit,
        "A's mirror confirms with the store, which lost the entry on B: {:?}",
        again.json
    );
}

/// `review_first` set on A; the question asked on A waits; B lists and approves it.
async fn approvals_cross_instances(
    admin_a: &Client,
    admin_b: &Client,
    conn: querent_domain::ConnectionId,
) {
    admin_a.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let pending = admin_a
        .ask(conn, "what is the average price of products?")
        .await;
    assert_eq!(
        pending.status,
        MessageStatus::PendingApproval,
        "{:?}",
        pending.json
    );
    let listed: Value = admin_b.get("/api/v1/chat/pending").await;
    assert!(
        listed.to_string().contains(&pending.message_id.to_string()),
        "{listed}"
    );
    let approved = admin_b
        .post_json_variant(
            &format!("/api/v1/chat/execute/{}", pending.message_id),
            json!({}),
        )
        .await
        .answer();
    assert_eq!(
        approved.status,
        MessageStatus::Executed,
        "{:?}",
        approved.json
    );
    // Approved once: A cannot run it a second time.
    let twice = admin_a
        .post_json_variant(
            &format!("/api/v1/chat/execute/{}", pending.message_id),
            json!({}),
        )
        .await;
    assert!(twice.status >= 400, "{}", twice.text);
    admin_b.set_mode(conn, ExecutionMode::AutoExecute).await;
}

/// A workflow due every 2 s, created on A: both schedulers run, and no slot runs twice.
async fn a_scheduled_workflow_fires_once_per_slot(admin_a: &Client, admin_b: &Client, conn: &str) {
    let saved: Value = admin_a
        .post(
            "/api/v1/queries",
            json!({"name": "count", "connection_id": conn, "sql": "SELECT count(*) AS n FROM products"}),
        )
        .await;
    let w: Value = admin_a
        .post(
            "/api/v1/workflows",
            json!({"name": "every 2 s", "schedule": {"cron": "*/2 * * * * *"},
                   "steps": [{"type": "run_query", "query_id": saved["id"]}]}),
        )
        .await;
    let path = format!("/api/v1/workflows/{}", w["id"].as_str().unwrap());
    let runs = |c: &Client| {
        let (c, path) = (c.clone(), path.clone());
        async move {
            let page: Value = c.get(&format!("{path}/runs?limit=100")).await;
            page["items"].as_array().cloned().unwrap_or_default()
        }
    };
    let mut seen = Vec::new();
    for _ in 0..600 {
        seen = runs(admin_b).await;
        if seen.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _: Value = admin_b.patch(&path, json!({"enabled": false})).await;
    // Runs still going finish; then the list is final.
    for _ in 0..600 {
        seen = runs(admin_a).await;
        if seen.iter().all(|r| r["status"] != "running") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.len() >= 4, "{seen:?}");
    let mut slots: Vec<String> = seen
        .iter()
        .map(|r| r["scheduled_for"].as_str().unwrap().to_owned())
        .collect();
    slots.sort();
    let n = slots.len();
    slots.dedup();
    assert_eq!(slots.len(), n, "a slot ran twice: {seen:?}");
    assert!(seen.iter().all(|r| r["status"] == "succeeded"), "{seen:?}");
}

/// The per-caller limit counts the caller's requests on both instances together.
async fn the_rate_limit_counts_across_instances(admin_a: &Client, admin_b: &Client) {
    let (_, dave) = admin_a.create_user("dave").await;
    // An administrator of its own who makes two requests in all (set, restore), so the
    // limit never stands in its way.
    let _: Value = admin_a
        .post(
            "/api/v1/users",
            json!({"username": "ops", "password": "ops-password-1", "role": "admin"}),
        )
        .await;
    let ops = admin_a.login("ops", "ops-password-1").await;
    let ops = admin_a.with_token(&ops.access_token);
    let _: Value = ops
        .patch("/api/v1/settings", json!({"rate_limit_per_minute": 4}))
        .await;
    // Each instance re-reads the setting within 5 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    // A fixed window of the store's clock (this machine's): start early in a minute, so
    // the six requests below fall in one window.
    let second = time::OffsetDateTime::now_utc().second();
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
    let (dave_a, dave_b) = (
        dave.clone(),
        Client::new(admin_b.base_url()).with_token(dave.token()),
    );
    let mut statuses = Vec::new();
    for i in 0..6 {
        let to = if i % 2 == 0 { &dave_a } else { &dave_b };
        statuses.push(to.send("GET", "/api/v1/auth/me", None).await.status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429],
        "4 per minute in all, whichever instance answers"
    );
    let _: Value = ops
        .patch("/api/v1/settings", json!({"rate_limit_per_minute": 600}))
        .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
}

/// A is killed while it streams a long query; B goes on serving, the session included.
async fn killed_mid_stream(mut pair: Pair, login: &Tokens, conn: &str) {
    let (a, b) = (
        pair.a.client().with_token(&login.access_token),
        pair.b.client().with_token(&login.access_token),
    );
    let asked = a
        .ask(conn.parse().unwrap(), "how many products are there?")
        .await;
    let http = reqwest::Client::new();
    let mut resp = http
        .post(format!(
            "{}/api/v1/chat/edit/{}",
            pair.a.base, asked.message_id
        ))
        .bearer_auth(&login.access_token)
        .header("accept", "text/event-stream")
        .json(&json!({"sql": "SELECT count(*) FROM products a, generate_series(1, 2000000000) g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    while !seen.contains("executing") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(parse_sse(&seen).iter().any(|(e, _)| e == "status"));
    pair.a.kill();
    // The stream ends without `done`.
    let mut rest = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!parse_sse(&rest).iter().any(|(e, _)| e == "done"), "{rest}");
    // B answers, the killed instance's session included.
    let history: Value = b
        .get(&format!("/api/v1/sessions/{}", asked.session_id))
        .await;
    assert_eq!(
        history["messages"].as_array().unwrap().len(),
        1,
        "{history}"
    );
    let fresh = b
        .ask(
            conn.parse().unwrap(),
            "what is the highest price of products?",
        )
        .await;
    assert_eq!(fresh.status, MessageStatus::Executed, "{:?}", fresh.json);
    let ready = b.send("GET", "/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
}

/// Behind a trusted proxy (`trusted_proxies`), failed logins count per client address the
/// proxy forwards (`X-Forwarded-For`), not all together under the proxy's; the header of a
/// peer that is not a trusted proxy is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_failed_logins_count_per_forwarded_address() {
    async fn login(app: &TestApp, forwarded: &str, user: &str, password: &str) -> u16 {
        let r = app
            .client
            .post(format!("{}/api/v1/auth/login", app.base_url))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }
    let proxied = TestApp::builder()
        .config(|c| {
            c.trusted_proxies = vec!["127.0.0.0/8".into(), "::1".into()];
            c.login_max_failures_per_ip = 3;
        })
        .with_admin()
        .spawn()
        .await;
    for user in ["ann", "bob", "cid"] {
        assert_eq!(login(&proxied, "203.0.113.7", user, "wrong").await, 401);
    }
    assert_eq!(
        login(&proxied, "203.0.113.7", "admin", "admin-password-1").await,
        429,
        "that client address is throttled"
    );
    assert_eq!(
        login(&proxied, "198.51.100.2", "admin", "admin-password-1").await,
        200,
        "another client behind the same proxy is not"
    );

    // Not a trusted proxy: the header names nothing, every attempt is the peer's.
    let direct = TestApp::builder()
        .config(|c| c.login_max_failures_per_ip = 3)
        .with_admin()
        .spawn()
        .await;
    for (user, forwarded) in [
        ("ann", "192.0.2.1"),
        ("bob", "192.0.2.2"),
        ("cid", "192.0.2.3"),
    ] {
        assert_eq!(login(&direct, forwarded, user, "wrong").await, 401);
    }
    assert_eq!(
        login(&direct, "192.0.2.4", "admin", "admin-password-1").await,
        429
    );
}
