//! Graceful shutdown of `querent serve` (a child process): on SIGTERM a stream on a long
//! query on a PostgreSQL target ends with an `error` event `shutting_down` and `done`, the
//! query stops on the target, the message is stored with that code, and the process exits
//! (successfully, within `shutdown_timeout_seconds`); Ctrl-C stops an idle server the same
//! way.

use std::time::{Duration, Instant};

use querent_test_support::{Client, PgDatabase, parse_sse};
use serde_json::{Value, json};

use crate::served::Served;

const SHOP: &str = "
CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL);
INSERT INTO products VALUES (1, 'Chess Set'), (2, 'Go Board');
";

const SLOW: &str = "SELECT count(*) FROM products a, generate_series(1, 2000000000) g";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_streams_cancels_queries_and_exits() {
    let Some(target) = PgDatabase::create("sigterm_ends_streams_cancels_queries_and_exits").await
    else {
        return;
    };
    target.execute(SHOP).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = [("QUERENT_SHUTDOWN_TIMEOUT_SECONDS", "20")];
    let mut served = Served::start(dir.path(), &env);
    let setup: Value = served
        .client()
        .post(
            "/api/v1/auth/setup",
            json!({"username": "admin", "password": "admin-password-1"}),
        )
        .await;
    let token = setup["access_token"].as_str().unwrap().to_owned();
    let admin = served.client().with_token(&token);
    let conn = admin
        .create_connection(
            json!({"name": "shop", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": target.name, "username": "postgres"}),
        )
        .await
        .id;
    let asked = admin.ask(conn, "how many products are there?").await;

    // A stream on a query that runs for minutes.
    let mut resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/chat/edit/{}",
            served.base, asked.message_id
        ))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({ "sql": SLOW }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut text = String::new();
    while !text.contains("executing") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .expect("stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let active = "SELECT count(*)::text FROM pg_stat_activity \
                  WHERE state = 'active' AND query LIKE '%generate_series(1, 2000000000)%' \
                  AND pid <> pg_backend_pid()";
    let until = Instant::now() + Duration::from_secs(20);
    while target.query_strings(active).await.unwrap() != vec![Some("1".to_owned())] {
        assert!(Instant::now() < until, "the query never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signalled = Instant::now();
    served.signal("TERM");
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
        .await
        .expect("the stream ends")
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let events = parse_sse(&text);
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names[names.len() - 2..], ["error", "done"], "{text}");
    let (_, error) = &events[events.len() - 2];
    assert_eq!(error["code"], "shutting_down", "{text}");
    let (_, done) = &events[events.len() - 1];
    assert_eq!(done["status"], "error", "{done}");

    let status = served
        .wait_exit(Duration::from_secs(60))
        .expect("the server exits");
    assert!(status.success(), "{status:?}: {:?}", served.output());
    eprintln!("SIGTERM to exit: {:?}", signalled.elapsed());
    assert!(
        served.output().iter().any(|l| l.contains("shutting down")),
        "{:?}",
        served.output()
    );
    // The query was cancelled on the target, not left running.
    let until = Instant::now() + Duration::from_secs(20);
    while target.query_strings(active).await.unwrap() != vec![Some("0".to_owned())] {
        assert!(
            Instant::now() < until,
            "the query still runs after the server stopped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Started again on the same data directory: the message says why it has no answer.
    let again = Served::start(dir.path(), &env);
    let history: Value = Client::new(again.base.clone())
        .with_token(&token)
        .get(&format!("/api/v1/sessions/{}", asked.session_id))
        .await;
    let message = &history["messages"][0];
    assert_eq!(message["status"], "error", "{message}");
    assert_eq!(message["error"]["code"], "shutting_down", "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_an_idle_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &[]);
    let r = served.client().send("GET", "/health", None).await;
    assert_eq!(r.status, 200);
    served.signal("INT");
    let status = served
        .wait_exit(Duration::from_secs(60))
        .expect("the server exits");
    assert!(status.success(), "{status:?}: {:?}", served.output());
}
