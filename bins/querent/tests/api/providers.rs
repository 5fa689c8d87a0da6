//! LLM providers through the full chat pipeline, against the fake provider server (both
//! wire formats, streaming and not): retries, giving up, timeouts, malformed replies,
//! self-correction, provider CRUD/test/models, the outbound URL policy, usage, and the API
//! key that appears in the request header and nowhere else.

use std::time::Duration;

use querent_test_support::TestApp;
use querent_test_support::fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

const KEY: &str = "sk-test-SECRET-4d3c2b1a";

async fn app() -> (TestApp, String, String) {
    let app = TestApp::builder()
        .demo()
        .config(|c| c.provider_max_retry_delay_ms = 40)
        .spawn()
        .await;
    let token = app.setup_admin().await.str("access_token");
    let list = app.get("/api/v1/connections", Some(&token)).await;
    let demo = list.json["items"][0]["id"].as_str().unwrap().to_owned();
    (app, token, demo)
}

async fn add_provider(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/providers", Some(token), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json["has_api_key"],
        r.json["kind"] != "offline" && r.json["name"] != "nokey"
    );
    assert!(!r.text.contains(KEY));
    r.str("id")
}

async fn ask(app: &TestApp, token: &str, demo: &str, provider: &str, q: &str) -> (u16, Value) {
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(token),
            // These tests exercise the providers: never answer from the semantic cache.
            json!({"connection_id": demo, "message": q, "provider": provider,
                   "options": {"use_cache": false}}),
        )
        .await;
    assert!(!r.text.contains(KEY), "the key leaked into a response");
    (r.status, r.json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_wire_formats_answer_streaming_or_not_and_retry_transient_failures() {
    let fake = FakeLlm::start().await;
    fake.require_api_key(KEY);
    let (app, token, demo) = app().await;
    for (name, kind, url, stream) in [
        ("oa", "openai", fake.base_url(), false),
        ("oa-stream", "openai", fake.base_url(), true),
        ("claude", "anthropic", fake.anthropic_base_url(), false),
        (
            "claude-stream",
            "anthropic",
            fake.anthropic_base_url(),
            true,
        ),
    ] {
        add_provider(
            &app,
            &token,
            json!({"name": name, "kind": kind, "base_url": url, "model": "m-1", "api_key": KEY,
                   "options": {"stream": stream, "price_prompt_per_mtok": 1.0, "price_completion_per_mtok": 2.0}}),
        )
        .await;
        // A transient 429 (with Retry-After) and a 500 before the answer.
        fake.push_replies([
            Reply::rate_limited("1"),
            Reply::status(500),
            Reply::text("Here you go:\n```sql\nSELECT count(*) AS n FROM customers;\n```\nIt counts customers."),
        ]);
        let (status, d) = ask(&app, &token, &demo, name, "how many customers do we have?").await;
        assert_eq!(status, 200, "{name}: {d}");
        assert_eq!(d["status"], "executed", "{name}: {d}");
        assert_eq!(d["results"]["rows"], json!([[600]]), "{name}");
        assert_eq!(d["query"], "SELECT count(*) AS n FROM customers", "{name}");
        assert_eq!(fake.remaining_replies(), 0);
        let last = fake.last_request().unwrap();
        let auth = last
            .header("authorization")
            .or_else(|| last.header("x-api-key"))
            .unwrap_or_default()
            .to_owned();
        assert!(auth.contains(KEY), "{name}: the key is sent in the header");
        let prompt = last.prompt_text();
        assert!(
            prompt.contains("customers") && prompt.contains("order_items"),
            "{name}: the schema is in the prompt"
        );
        assert!(prompt.contains("how many customers do we have?"));
        // The message keeps the provider, tokens and cost.
        let s = app
            .get(
                &format!("/api/v1/sessions/{}", d["session_id"].as_str().unwrap()),
                Some(&token),
            )
            .await;
        let m = &s.json["messages"][0];
        assert!(m["provider"].as_str().unwrap().ends_with(":m-1"), "{m}");
        assert!(m["prompt_tokens"].as_i64().unwrap() > 100, "{m}");
        assert!(m["completion_tokens"].as_i64().unwrap() > 0, "{m}");
    }
    let usage = app.get("/api/v1/usage", Some(&token)).await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    assert_eq!(usage.json["total"]["messages"], 4, "{}", usage.text);
    assert!(usage.json["total"]["cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(
        usage.json["by_provider"].as_array().unwrap().len(),
        2,
        "{}",
        usage.text
    );
    let empty = app
        .get("/api/v1/usage?from=2001-01-01&to=2001-02-01", Some(&token))
        .await;
    assert_eq!(empty.json["total"]["messages"], 0, "{}", empty.text);
    let bad = app.get("/api/v1/usage?from=yesterday", Some(&token)).await;
    assert_eq!(bad.status, 422);

    // The key is in no response and not in the store file in clear.
    for f in app.store_files() {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "{} holds the key in clear",
            f.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_end_cleanly_and_self_correction_fixes_an_unknown_column() {
    let fake = FakeLlm::start().await;
    let (app, token, demo) = app().await;
    add_provider(
        &app,
        &token,
        json!({"name": "nokey", "kind": "openai", "base_url": fake.base_url(), "model": "m-2",
               "is_default": true, "options": {"request_timeout_ms": 300, "max_retries": 1}}),
    )
    .await;

    // Retry budget spent: a clean error event, the message kept as an error.
    fake.push_replies([Reply::status(503), Reply::status(503)]);
    let (_, events) = app
        .sse(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": demo, "message": "how many orders are there?"}),
        )
        .await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(&names[names.len() - 2..], ["error", "done"], "{events:?}");
    let err = &events[names.len() - 2].1;
    assert_eq!(err["code"], "provider_error", "{err}");
    assert!(err["detail"].as_str().unwrap().contains("503"), "{err}");
    let done = &events.last().unwrap().1;
    assert_eq!(done["status"], "error");
    let s = app
        .get(
            &format!("/api/v1/sessions/{}", done["session_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(s.json["messages"][0]["status"], "error", "{}", s.text);
    assert_eq!(s.json["messages"][0]["sql"], Value::Null);

    // A slow provider times out.
    fake.push_replies([
        Reply::slow(Duration::from_secs(3), Reply::sql("SELECT 1")),
        Reply::slow(Duration::from_secs(3), Reply::sql("SELECT 1")),
    ]);
    let (status, d) = ask(&app, &token, &demo, "nokey", "how many orders are there?").await;
    assert_eq!(status, 502, "{d}");
    assert_eq!(d["code"], "provider_error");
    assert!(d["detail"].as_str().unwrap().contains("time"), "{d}");

    // A malformed reply.
    fake.push_replies([Reply::Malformed]);
    let (status, d) = ask(&app, &token, &demo, "nokey", "how many orders are there?").await;
    assert_eq!(status, 502, "{d}");
    assert_eq!(d["status"], "error");

    // Self-correction: an unknown column, then the fix; both attempts are recorded.
    fake.push_replies([
        Reply::sql("SELECT count(*) FROM customers WHERE contry = 'Germany'"),
        Reply::sql("SELECT count(*) FROM customers WHERE country = 'Germany'"),
    ]);
    let before = fake.completion_requests().len();
    let (status, d) = ask(
        &app,
        &token,
        &demo,
        "nokey",
        "how many customers are in Germany?",
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["status"], "executed");
    assert_eq!(
        d["query"],
        "SELECT count(*) FROM customers WHERE country = 'Germany'"
    );
    let requests = fake.completion_requests();
    assert_eq!(requests.len(), before + 2);
    let correction = requests.last().unwrap().prompt_text();
    assert!(
        correction.contains("contry"),
        "the refused SQL goes back to the provider"
    );
    assert!(
        correction.contains("country"),
        "with the guard's suggestion"
    );
    let s = app
        .get(
            &format!("/api/v1/sessions/{}", d["session_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    let attempts = s.json["messages"][0]["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(attempts.len(), 2, "{}", s.text);
    assert!(attempts[0]["error"].as_str().unwrap().contains("contry"));
    assert_eq!(attempts[1]["error"], Value::Null);

    // A database error is corrected too; a provider that keeps failing stops after 2 retries.
    fake.push_replies([
        Reply::sql("SELECT count(*) FROM customers WHERE julianday(signup_date, 'x', 'y', 'z') IS NULL AND no_such_fn(1)"),
        Reply::sql("SELECT nope FROM customers"),
        Reply::sql("SELECT nope2 FROM customers"),
    ]);
    let (status, d) = ask(&app, &token, &demo, "nokey", "how many customers?").await;
    assert!(status == 422, "{d}");
    assert_eq!(fake.remaining_replies(), 0, "three attempts at most");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_managed_tested_and_listed_and_metadata_urls_refused() {
    let fake = FakeLlm::start().await;
    fake.set_models(["m-1", "m-2"]);
    let (app, token, _) = app().await;
    for (url, why) in [
        ("http://169.254.169.254/v1", "metadata"),
        ("http://[fd00:ec2::254]/v1", "metadata v6"),
        ("http://10.1.2.3/v1", "private"),
        ("ftp://example.com/v1", "scheme"),
    ] {
        let r = app
            .post(
                "/api/v1/providers",
                Some(&token),
                json!({"name": "evil", "kind": "openai", "base_url": url, "model": "x"}),
            )
            .await;
        assert_eq!(r.status, 422, "{why}: {}", r.text);
        assert!(r.detail().starts_with("base_url"), "{}", r.text);
    }
    let r = app
        .post(
            "/api/v1/providers",
            Some(&token),
            json!({"name": "x", "kind": "openai", "model": "m"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let id = add_provider(
        &app,
        &token,
        json!({"name": "local", "kind": "openai", "base_url": fake.base_url(), "model": "m-1", "api_key": KEY}),
    )
    .await;
    let dup = app
        .post(
            "/api/v1/providers",
            Some(&token),
            json!({"name": "local", "kind": "offline"}),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.text);

    let t = app
        .post(
            &format!("/api/v1/providers/{id}/test"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["ok"], true, "{}", t.text);
    let m = app
        .get(&format!("/api/v1/providers/{id}/models"), Some(&token))
        .await;
    assert_eq!(m.json["models"], json!(["m-1", "m-2"]), "{}", m.text);

    let u = app
        .patch(
            &format!("/api/v1/providers/{id}"),
            Some(&token),
            json!({"model": "m-2", "is_default": true, "clear_api_key": true}),
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.text);
    assert_eq!(u.json["has_api_key"], false);
    assert_eq!(u.json["is_default"], true);
    let list = app.get("/api/v1/providers", Some(&token)).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);

    // Another team sees nothing; unknown provider names are a clear 422.
    let (_, other) = app.create_user(&token, "olga").await;
    let r = app
        .get(&format!("/api/v1/providers/{id}"), Some(&other))
        .await;
    assert_eq!(r.status, 404);
    let demo = app.get("/api/v1/connections", Some(&token)).await.json["items"][0]["id"].clone();
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": demo, "message": "hi", "provider": "gpt-17"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("gpt-17"));

    let d = app
        .delete(&format!("/api/v1/providers/{id}"), Some(&token))
        .await;
    assert_eq!(d.status, 204);
    // With no provider left the built-in offline translator answers.
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": demo, "message": "how many customers are there?"}),
        )
        .await;
    assert_eq!(r.json["status"], "executed", "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_result_can_be_reconsidered_once() {
    let fake = FakeLlm::start().await;
    let (app, token, demo) = app().await;
    add_provider(
        &app,
        &token,
        json!({"name": "nokey", "kind": "openai", "base_url": fake.base_url(), "model": "m-3",
               "options": {"reconsider_empty_results": true}}),
    )
    .await;
    // Lower-case value: no rows; the second look fixes the case.
    fake.push_replies([
        Reply::sql("SELECT first_name FROM customers WHERE country = 'germany'"),
        Reply::sql("SELECT first_name FROM customers WHERE country = 'Germany'"),
    ]);
    let (status, d) = ask(
        &app,
        &token,
        &demo,
        "nokey",
        "names of customers in germany",
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d["query"],
        "SELECT first_name FROM customers WHERE country = 'Germany'"
    );
    assert!(d["results"]["row_count"].as_u64().unwrap() > 0, "{d}");
    let second = fake.last_request().unwrap().prompt_text();
    assert!(
        second.contains("returned no rows"),
        "the provider is told why"
    );

    // When the provider stands by its SQL, the empty answer stays.
    fake.push_replies([
        Reply::sql("SELECT first_name FROM customers WHERE country = 'Atlantis'"),
        Reply::sql("SELECT first_name FROM customers WHERE country = 'Atlantis'"),
    ]);
    let (status, d) = ask(&app, &token, &demo, "nokey", "customers in Atlantis").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["status"], "executed");
    assert_eq!(d["results"]["row_count"], 0);
    assert_eq!(fake.remaining_replies(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_schema_is_linked_before_the_provider_sees_it() {
    const WORDS: [&str; 40] = [
        "invoice",
        "shipment",
        "supplier",
        "warehouse",
        "pallet",
        "carrier",
        "route",
        "driver",
        "vehicle",
        "fuel",
        "tariff",
        "customs",
        "port",
        "vessel",
        "container",
        "berth",
        "crane",
        "gate",
        "yard",
        "slot",
        "booking",
        "quote",
        "contract",
        "claim",
        "damage",
        "insurer",
        "broker",
        "agent",
        "commission",
        "ledger",
        "journal",
        "budget",
        "forecast",
        "audit",
        "payroll",
        "timesheet",
        "shift",
        "badge",
        "locker",
        "canteen",
    ];

    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT count(*) FROM supplier"));
    let (app, token, _) = app().await;
    // In the server's shared SQLite folder: files elsewhere are refused.
    let path = app.config.files_dir().join("big.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    let mut ddl = String::new();
    for w in WORDS {
        ddl.push_str(&format!(
            "CREATE TABLE {w} ({w}_id INTEGER PRIMARY KEY, {w}_name TEXT, created_on DATE, amount REAL);\n"
        ));
    }
    ddl.push_str("INSERT INTO supplier VALUES (1, 'Acme', '2024-01-01', 3.5);");
    db.execute_batch(&ddl).unwrap();
    drop(db);
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "big", "dialect": "sqlite", "path": path.display().to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    add_provider(
        &app,
        &token,
        json!({"name": "nokey", "kind": "openai", "base_url": fake.base_url(), "model": "m-4"}),
    )
    .await;
    let (status, d) = ask(
        &app,
        &token,
        &conn,
        "nokey",
        "how many suppliers are there?",
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["results"]["rows"], json!([[1]]));
    let prompt = fake.last_request().unwrap().prompt_text();
    assert!(
        prompt.contains("supplier"),
        "the linked table is in the prompt"
    );
    let others = WORDS
        .iter()
        .filter(|w| **w != "supplier" && prompt.contains(&format!("{w}_id")))
        .count();
    assert!(others <= 8, "{others} unrelated tables reached the prompt");
}

/// Design §4: a database error fed back for self-correction carries its SQLSTATE and a
/// message without the value it quoted; no result row ever reaches the provider (the
/// reconsider pass and the explanation included). The client still sees the whole error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_errors_reach_the_provider_without_values() {
    use querent_test_support::PgDatabase;

    let Some(db) = PgDatabase::create("database_errors_reach_the_provider_without_values").await
    else {
        return;
    };
    // 30 distinct names and emails: too many to be sampled into the schema prompt.
    db.execute(
        "CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
         INSERT INTO customers SELECT n, 'Customer-Name-' || n,
             CASE WHEN n = 1 THEN 'alice@example.com' ELSE 'user' || n || '@example.org' END
         FROM generate_series(1, 30) n;",
    )
    .await
    .unwrap();
    let fake = FakeLlm::start().await;
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "crm", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": db.name, "username": "postgres"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    add_provider(
        &app,
        &token,
        json!({"name": "nokey", "kind": "openai", "base_url": fake.base_url(), "model": "m-4",
               "is_default": true, "options": {"reconsider_empty_results": true}}),
    )
    .await;
    fake.push_replies([
        // Fails with `invalid input syntax for type integer: "alice@example.com"`.
        Reply::sql("SELECT name FROM customers WHERE CAST(email AS integer) = 1"),
        // Runs, returns nothing: the provider gets one second look.
        Reply::sql("SELECT name FROM customers WHERE id < 0"),
        Reply::sql("SELECT name, email FROM customers ORDER BY id LIMIT 3"),
    ]);
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "names and emails of the first customers",
                   "options": {"use_cache": false, "explain_results": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "executed", "{}", r.text);
    assert_eq!(r.json["results"]["rows"][0][1], "alice@example.com");

    let requests = fake.completion_requests();
    assert_eq!(requests.len(), 3);
    let retry = requests[1].prompt_text();
    assert!(retry.contains("SQLSTATE 22P02"), "{retry}");
    assert!(
        retry.contains("invalid input syntax for type integer"),
        "{retry}"
    );
    assert!(requests[2].prompt_text().contains("returned no rows"));
    for (i, req) in requests.iter().enumerate() {
        for value in ["alice@example.com", "Customer-Name-", "@example.org"] {
            assert!(
                !req.raw_body.contains(value),
                "request {i} carries the value {value}: {}",
                req.prompt_text()
            );
        }
    }

    // The client (and the stored attempts) keep the database's whole message.
    let s = app
        .get(
            &format!(
                "/api/v1/sessions/{}",
                r.json["session_id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await;
    let first = s.json["messages"][0]["attempts"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(first.contains("alice@example.com"), "{}", s.text);
    assert!(first.contains("22P02"), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_names_its_provider_by_config_id_and_only_its_own_teams() {
    let fake = FakeLlm::start().await;
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let ours = admin
        .add_provider(
            json!({"name": "by-id", "kind": "openai", "base_url": fake.base_url(),
                             "model": "m-1", "api_key": KEY}),
        )
        .await;
    assert_eq!(ours.team_id, app.demo().team_id);

    // The seed API's shape: `provider` is the uuid of a provider config.
    fake.push_replies([Reply::text(
        "```sql\nSELECT count(*) AS n FROM customers\n```",
    )]);
    let d = admin
        .chat(
            json!({"connection_id": conn, "message": "how many customers do we have?",
                     "provider": ours.id, "options": {"use_cache": false}}),
        )
        .await;
    assert_eq!(
        d.status,
        querent_domain::MessageStatus::Executed,
        "{}",
        d.json
    );
    assert_eq!(d.rows(), [[json!(600)]]);
    assert_eq!(
        fake.remaining_replies(),
        0,
        "the configured provider answered"
    );
    // The name still works.
    fake.push_replies([Reply::text(
        "```sql\nSELECT count(*) AS n FROM products\n```",
    )]);
    let d = admin
        .chat(
            json!({"connection_id": conn, "message": "how many products are there?",
                     "provider": "by-id", "options": {"use_cache": false}}),
        )
        .await;
    assert_eq!(d.rows(), [[json!(36)]], "{}", d.json);

    // Another team's provider is not found through this connection's team: the same
    // refusal as an unknown id, and its provider is never called.
    let other: querent_test_support::views::TeamView = admin
        .post("/api/v1/teams", json!({"name": "Elsewhere"}))
        .await;
    let theirs = admin
        .add_provider(
            json!({"name": "theirs", "kind": "openai", "base_url": fake.base_url(),
                             "model": "m-1", "api_key": KEY, "team_id": other.id}),
        )
        .await;
    assert_eq!(theirs.team_id, other.id);
    let refused = |provider: String| {
        let admin = admin.clone();
        async move {
            let e = admin
                .chat_raw(
                    json!({"connection_id": conn, "message": "how many customers?",
                                 "provider": provider}),
                )
                .await
                .error();
            (e.status, e.code, e.detail.replace(&provider, "<p>"))
        }
    };
    let foreign = refused(theirs.id.to_string()).await;
    let unknown = refused(querent_domain::ProviderId::new().to_string()).await;
    assert_eq!(foreign.0, 422, "{foreign:?}");
    assert_eq!(foreign.1, querent_domain::ErrorCode::ValidationError);
    assert_eq!(foreign, unknown);
    assert_eq!(
        foreign,
        refused("no-such-name".into()).await,
        "the same refusal as an unknown name"
    );
    assert_eq!(fake.requests().len(), 2, "their provider was never called");
}
