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
    let started = Instant::now();
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn, "sql": bomb}),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.text);
    assert_eq!(r.code(), "query_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
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
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "query_error");
    assert!(r.detail().contains("read-only"), "{}", r.text);
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
    let started = Instant::now();
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
    assert!(started.elapsed() < Duration::from_secs(15));
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
