//! Questions and hand-written SQL against real PostgreSQL and MariaDB targets (each test
//! creates and drops its own database): typed results, the statement timeout, writes that
//! never happen, an unreachable target, and a client that disconnects mid-query.

use std::time::{Duration, Instant};

use querent_test_support::{MysqlDatabase, PgDatabase, TestApp, parse_sse};
use serde_json::{Value, json};

const SHOP: &str = "
CREATE TABLE categories (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    price NUMERIC(10,2) NOT NULL,
    in_stock BOOLEAN NOT NULL,
    added_on DATE NOT NULL
);
INSERT INTO categories VALUES (1, 'Books'), (2, 'Games');
INSERT INTO products VALUES
    (1, 'Rust in Action', 1, 39.90, TRUE, '2024-01-05'),
    (2, 'SQL Antipatterns', 1, 29.50, FALSE, '2023-03-10'),
    (3, 'Chess Set', 2, 15.00, TRUE, '2022-11-30'),
    (4, 'Go Board', 2, 55.25, TRUE, '2024-06-01');
";

async fn register(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/connections", Some(token), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.str("id")
}

async fn ask(app: &TestApp, token: &str, conn: &str, q: &str) -> Value {
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(token),
            json!({"connection_id": conn, "message": q}),
        )
        .await;
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    r.json
}

/// The behaviour every target shares; `bomb` is a query that runs for minutes.
async fn exercise(app: &TestApp, token: &str, conn: &str, bomb: &str) {
    let d = ask(app, token, conn, "how many products are there?").await;
    assert_eq!(d["status"], "executed", "{d}");
    assert_eq!(d["results"]["rows"], json!([[4]]), "{d}");
    let d = ask(
        app,
        token,
        conn,
        "what is the average price of products per category?",
    )
    .await;
    assert_eq!(d["status"], "executed", "{d}");
    assert_eq!(d["results"]["row_count"], 2, "{d}");

    // Typed values: ints stay ints, NUMERIC is a string, dates ISO, NULL null.
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn,
                   "sql": "SELECT id, name, price, added_on, NULL AS nothing FROM products ORDER BY id"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["row_count"], 4);
    let first = &r.json["rows"][0];
    assert_eq!(first[0], 1);
    assert_eq!(first[1], "Rust in Action");
    assert_eq!(first[2], "39.90");
    assert_eq!(first[3], "2024-01-05");
    assert_eq!(first[4], Value::Null);

    // Crafted writes are refused before they reach the database; nothing changes.
    for sql in [
        "DELETE FROM products",
        "SELECT 1; DELETE FROM products",
        "WITH d AS (DELETE FROM products RETURNING id) SELECT count(*) FROM d",
        "SELECT * FROM products FOR UPDATE",
    ] {
        let r = app
            .post(
                "/api/v1/sql/run",
                Some(token),
                json!({"connection_id": conn, "sql": sql}),
            )
            .await;
        assert!(r.status == 422 || r.status == 403, "{sql}: {}", r.text);
    }
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn, "sql": "SELECT count(*) FROM products"}),
        )
        .await;
    assert_eq!(r.json["rows"], json!([[4]]), "{}", r.text);

    // The statement timeout stops a runaway query.
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/config"),
            Some(token),
            json!({"statement_timeout_ms": 500, "max_rows": 1000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn, "sql": bomb}),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.text);
    assert_eq!(r.code(), "query_timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_target_answers_questions_read_only_and_under_a_timeout() {
    let Some(db) = PgDatabase::create("postgres_target_answers_questions").await else {
        return;
    };
    db.execute(SHOP).await.unwrap();
    // Defence in depth: a function the guard lets through still cannot write, because
    // queries run in a READ ONLY transaction.
    db.execute(
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE plpgsql AS \
         $$ BEGIN DELETE FROM products; RETURN 1; END $$;",
    )
    .await
    .unwrap();
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let conn = register(
        &app,
        &token,
        json!({"name": "shop", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
               "database": db.name, "username": "postgres"}),
    )
    .await;
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&token),
            json!({"connection_id": conn, "sql": "SELECT sneaky()"}),
        )
        .await;
    // A user-defined function is not on the allow-list: refused before the database sees
    // it (the read-only transaction stays behind the guard as a second line).
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "policy_violation");
    assert!(r.detail().contains("sneaky"), "{}", r.text);
    assert_eq!(
        db.query_strings("SELECT count(*)::text FROM products")
            .await
            .unwrap(),
        vec![Some("4".to_owned())]
    );
    exercise(
        &app,
        &token,
        &conn,
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_target_answers_questions_read_only_and_under_a_timeout() {
    let Some(db) = MysqlDatabase::create("mariadb_target_answers_questions").await else {
        return;
    };
    db.execute(SHOP).await.unwrap();
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let conn = register(
        &app,
        &token,
        json!({"name": "shop", "dialect": "mysql", "host": "127.0.0.1", "port": 3306,
               "database": db.name, "username": "root"}),
    )
    .await;
    exercise(
        &app,
        &token,
        &conn,
        "SELECT count(*) FROM products a, products b, products c, products d, products e, \
         products f, products g, products h, products i, products j, products k, products l, \
         products m, products n, products o WHERE a.name <> concat(b.name, c.name, d.name)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_target_is_a_502_connection_error() {
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let conn = register(
        &app,
        &token,
        json!({"name": "down", "dialect": "postgres", "host": "127.0.0.1", "port": 1,
               "database": "nothing", "username": "postgres"}),
    )
    .await;
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "how many orders are there?"}),
        )
        .await;
    assert_eq!(r.status, 502, "{}", r.text);
    assert_eq!(r.code(), "connection_error");
    assert_eq!(r.json["status"], "error");
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&token),
            json!({"connection_id": conn, "sql": "SELECT 1"}),
        )
        .await;
    assert_eq!(r.status, 502, "{}", r.text);
    assert_eq!(r.code(), "connection_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_cancels_its_query_on_the_target() {
    let Some(db) = PgDatabase::create("client_disconnect_cancels").await else {
        return;
    };
    db.execute(SHOP).await.unwrap();
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let conn = register(
        &app,
        &token,
        json!({"name": "shop", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
               "database": db.name, "username": "postgres"}),
    )
    .await;
    let d = ask(&app, &token, &conn, "how many products are there?").await;
    let message = d["message_id"].as_str().unwrap().to_owned();
    let session = d["session_id"].as_str().unwrap().to_owned();

    // An edit that runs for minutes, streamed; read the first events, then hang up.
    let mut resp = app
        .client
        .post(format!("{}/api/v1/chat/edit/{message}", app.base_url))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({"sql": "SELECT count(*) FROM products a, generate_series(1, 2000000000) g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    while !seen.contains("executing") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(parse_sse(&seen).iter().any(|(e, _)| e == "status"));
    // Give the query time to start on the server, then disconnect.
    let active = "SELECT count(*)::text FROM pg_stat_activity \
                  WHERE state = 'active' AND query LIKE '%generate_series(1, 2000000000)%' \
                  AND pid <> pg_backend_pid()";
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.query_strings(active).await.unwrap() != vec![Some("1".to_owned())] {
        assert!(Instant::now() < deadline, "the query never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(resp);

    let deadline = Instant::now() + Duration::from_secs(5);
    while db.query_strings(active).await.unwrap() != vec![Some("0".to_owned())] {
        assert!(
            Instant::now() < deadline,
            "the query still runs after the client went away"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The message records why it has no answer.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = app
            .get(&format!("/api/v1/sessions/{session}"), Some(&token))
            .await;
        let m = &s.json["messages"][0];
        if m["status"] == "error" {
            assert!(
                m["error"]["detail"]
                    .as_str()
                    .unwrap()
                    .contains("disconnected"),
                "{m}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "message still {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Design §4: byte caps per value and per result, reported like the row cap, on /sql/run,
/// the chat (JSON and SSE) and the stored preview; the caps are settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_bounded_by_byte_caps() {
    use querent_test_support::fake_llm::{FakeLlm, Reply};

    let Some(db) = PgDatabase::create("results_are_bounded_by_byte_caps").await else {
        return;
    };
    db.execute(
        "CREATE TABLE big (id int, t text);
         INSERT INTO big VALUES (1, repeat('x', 100000)), (2, 'short');
         CREATE TABLE rows1k (id int, s text);
         INSERT INTO rows1k SELECT n, repeat('y', 1000) FROM generate_series(1, 3000) n;",
    )
    .await
    .unwrap();
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let conn = register(
        &app,
        &token,
        json!({"name": "big", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
               "database": db.name, "username": "postgres"}),
    )
    .await;
    let run = |sql: &'static str| {
        let (app, token, conn) = (&app, &token, &conn);
        async move {
            let r = app
                .post(
                    "/api/v1/sql/run",
                    Some(token),
                    json!({"connection_id": conn, "sql": sql, "max_rows": 1000}),
                )
                .await;
            assert_eq!(r.status, 200, "{sql}: {}", &r.text[..r.text.len().min(500)]);
            r
        }
    };

    // Defaults: a 100,000-character value comes back as 64 KiB, and says so.
    let s = app.get("/api/v1/settings", Some(&token)).await;
    assert_eq!(
        (&s.json["max_value_bytes"], &s.json["max_result_bytes"]),
        (&json!(65536), &json!(16_777_216)),
        "{}",
        s.text
    );
    let r = run("SELECT id, t FROM big ORDER BY id").await;
    assert_eq!(r.json["truncated"], true);
    assert_eq!(r.json["truncated_reason"], "value_bytes");
    assert_eq!(r.json["truncated_limit"], 65536);
    assert_eq!(r.json["values_truncated"], 1);
    assert_eq!(r.json["row_count"], 2);
    assert_eq!(r.json["rows"][0][1].as_str().unwrap().len(), 65536);
    assert_eq!(r.json["rows"][1][1], "short");
    let r = run("SELECT id FROM big WHERE id = 2").await;
    assert_eq!(
        (&r.json["truncated"], &r.json["truncated_reason"]),
        (&json!(false), &Value::Null)
    );

    // Smaller caps through /settings: rows stop at the result cap.
    let p = app
        .patch(
            "/api/v1/settings",
            Some(&token),
            json!({"max_result_bytes": 262_144, "max_value_bytes": 4096}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let bad = app
        .patch(
            "/api/v1/settings",
            Some(&token),
            json!({"max_value_bytes": 1_000_000}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let r = run("SELECT id, s FROM rows1k ORDER BY id").await;
    assert_eq!(
        r.json["truncated_reason"],
        "result_bytes",
        "{}",
        &r.text[..300]
    );
    assert_eq!(r.json["truncated_limit"], 262_144);
    let n = r.json["row_count"].as_u64().unwrap();
    assert!((250..=262).contains(&n), "{n}");
    assert_eq!(r.json["rows"].as_array().unwrap().len() as u64, n);
    assert!(r.text.len() < 262_144 + 4096, "{}", r.text.len());
    let r = run("SELECT t FROM big WHERE id = 1").await;
    assert_eq!(r.json["rows"][0][0].as_str().unwrap().len(), 4096);
    assert_eq!(r.json["truncated_limit"], 4096);

    // The chat reports the same, streams only what the caps allow, and keeps a bounded
    // preview in the history.
    let fake = FakeLlm::start().await;
    let p = app
        .post(
            "/api/v1/providers",
            Some(&token),
            json!({"name": "fake", "kind": "openai", "base_url": fake.base_url(),
                   "model": "m", "is_default": true}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    let ask_body = json!({"connection_id": conn, "message": "every row",
                          "options": {"max_rows": 1000, "use_cache": false}});
    fake.push_replies([Reply::sql("SELECT id, s FROM rows1k ORDER BY id")]);
    let r = app
        .post_json("/api/v1/chat", Some(&token), ask_body.clone())
        .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(500)]);
    let results = &r.json["results"];
    assert_eq!(results["truncated"], true);
    assert_eq!(results["truncated_reason"], "result_bytes");
    assert_eq!(results["truncated_limit"], 262_144);
    assert_eq!(results["row_count"].as_u64().unwrap(), n);
    assert_eq!(
        results["rows"].as_array().unwrap().len() as u64,
        n,
        "the answer carries every delivered row"
    );
    assert_eq!(results["preview"], false);
    // The history keeps a preview of them, and says so.
    let s = app
        .get(
            &format!(
                "/api/v1/sessions/{}",
                r.json["session_id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await;
    let stored = &s.json["messages"][0]["results"];
    assert_eq!(stored["rows"].as_array().unwrap().len(), 200, "the preview");
    assert_eq!(
        (&stored["preview"], &stored["row_count"]),
        (&json!(true), &json!(n))
    );

    fake.push_replies([Reply::sql("SELECT id, s FROM rows1k ORDER BY id")]);
    let (_, events) = app.sse("/api/v1/chat", Some(&token), ask_body).await;
    let streamed: usize = events
        .iter()
        .filter(|(e, _)| e == "rows")
        .map(|(_, d)| d["rows"].as_array().unwrap().len())
        .sum();
    assert_eq!(streamed as u64, n, "every delivered row is streamed");
    let done = &events.last().unwrap().1;
    assert_eq!(done["results"]["truncated_reason"], "result_bytes");
    assert_eq!(done["results"]["rows"].as_array().unwrap().len() as u64, n);

    fake.push_replies([Reply::sql("SELECT t FROM big WHERE id = 1")]);
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "the big text",
                   "options": {"use_cache": false, "explain_results": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(500)]);
    assert_eq!(r.json["results"]["truncated_reason"], "value_bytes");
    assert_eq!(
        r.json["results"]["rows"][0][0].as_str().unwrap().len(),
        4096
    );
    assert!(
        r.json["explanation"]
            .as_str()
            .unwrap()
            .contains("long values were shortened"),
        "{}",
        r.json["explanation"]
    );
    let s = app
        .get(
            &format!(
                "/api/v1/sessions/{}",
                r.json["session_id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await;
    let stored = &s.json["messages"][0]["results"];
    assert_eq!(stored["truncated_reason"], "value_bytes");
    assert_eq!(stored["truncated_limit"], 4096);
}
