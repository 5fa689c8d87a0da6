//! The chat flow over HTTP on the generated demo database with the offline provider: SSE
//! event order, `done` = the complete ChatResponse, the JSON variant, all three execution
//! modes (approvals survive a restart), edits, masking on every path, sessions, hand-written
//! SQL, and team isolation.

use querent_test_support::{Response, TestApp};
use serde_json::{Value, json};

/// A server with the demo database registered at setup: (app, admin token, demo id, team id).
async fn demo_app() -> (TestApp, String, String, String) {
    let app = TestApp::builder().demo().spawn().await;
    let setup = app.setup_admin().await;
    let token = setup.str("access_token");
    let list = app.get("/api/v1/connections", Some(&token)).await;
    assert_eq!(list.json["items"][0]["name"], "demo", "{}", list.text);
    let id = list.json["items"][0]["id"].as_str().unwrap().to_owned();
    let team = list.json["items"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, token, id, team)
}

fn names(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(e, d)| match e.as_str() {
            "status" => format!("status:{}", d["stage"].as_str().unwrap_or("?")),
            other => other.to_owned(),
        })
        .collect()
}

fn done(events: &[(String, Value)]) -> Value {
    let (name, data) = events.last().expect("at least one event");
    assert_eq!(name, "done", "the stream ends with done: {events:?}");
    data.clone()
}

async fn set_mode(app: &TestApp, token: &str, conn: &str, mode: &str) {
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/execution-mode"),
            Some(token),
            json!({ "mode": mode }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn rows_of(events: &[(String, Value)]) -> Vec<Value> {
    events
        .iter()
        .filter(|(e, _)| e == "rows")
        .flat_map(|(_, d)| d["rows"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_streams_status_sql_rows_and_a_complete_done() {
    let (app, token, conn, _) = demo_app().await;
    let (resp, events) = app
        .sse(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "how many customers are there?",
                   "options": {"explain_results": true}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        names(&events),
        [
            "status:linking",
            "status:cache",
            "status:generating",
            "status:validating",
            "sql",
            "status:executing",
            "rows",
            "explanation",
            "done"
        ],
        "{}",
        resp.text
    );
    let sql = events[4].1["query"].as_str().unwrap().to_lowercase();
    assert!(
        sql.contains("count(*)") && sql.contains("customers"),
        "{sql}"
    );
    assert_eq!(events[4].1["dialect"], "sqlite");
    assert_eq!(
        events[6].1["rows"],
        json!([[600]]),
        "the demo has 600 customers"
    );
    assert!(events[6].1["columns"].is_array());
    let d = done(&events);
    for key in [
        "session_id",
        "message_id",
        "query",
        "query_dialect",
        "explanation",
        "results",
        "status",
        "cache_hit",
        "error",
    ] {
        assert!(d.get(key).is_some(), "done lacks {key}: {d}");
    }
    assert_eq!(d["status"], "executed");
    assert_eq!(d["results"]["rows"], json!([[600]]));
    assert_eq!(d["results"]["row_count"], 1);
    assert_eq!(d["results"]["truncated"], false);
    assert_eq!(d["query"], events[4].1["query"]);
    assert_eq!(d["cache_hit"], false);
    assert!(d["explanation"].as_str().unwrap().contains("1 row"), "{d}");

    // The JSON variant answers with the same ChatResponse in one body.
    let j = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "how many customers are there?",
                   "session_id": d["session_id"], "options": {"show_query": false}}),
        )
        .await;
    assert_eq!(j.status, 200, "{}", j.text);
    assert_eq!(j.json["status"], "executed");
    assert_eq!(
        j.json["query"],
        Value::Null,
        "show_query=false hides the SQL"
    );
    assert_eq!(j.json["explanation"], Value::Null);
    assert_eq!(j.json["results"]["rows"], json!([[600]]));
    assert_eq!(j.json["session_id"], d["session_id"]);

    // show_query=false: no sql event either; max_rows caps and flags truncation.
    let (_, events) = app
        .sse(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "list all customers",
                   "options": {"show_query": false, "max_rows": 7}}),
        )
        .await;
    assert!(!names(&events).contains(&"sql".to_owned()), "{events:?}");
    let d = done(&events);
    assert_eq!(d["status"], "executed", "{d}");
    assert_eq!(d["query"], Value::Null);
    assert_eq!(d["results"]["row_count"], 7);
    assert_eq!(d["results"]["truncated"], true);
    assert_eq!(rows_of(&events).len(), 7);

    // The session keeps the messages in order with SQL, status and a row preview.
    let s = app
        .get(
            &format!(
                "/api/v1/sessions/{}",
                j.json["session_id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let messages = s.json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["status"], "executed");
    assert!(
        messages[0]["sql"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("count")
    );
    assert_eq!(messages[1]["results"]["rows"], json!([[600]]));
    let list = app.get("/api/v1/sessions", Some(&token)).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        list.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untranslatable_question_ends_with_an_error_event_and_is_kept() {
    let (app, token, conn, _) = demo_app().await;
    let body =
        json!({"connection_id": conn, "message": "what's the weather like tomorrow in Paris?"});
    let (resp, events) = app.sse("/api/v1/chat", Some(&token), body.clone()).await;
    assert_eq!(resp.status, 200);
    let n = names(&events);
    assert_eq!(n[n.len() - 2], "error", "{n:?}");
    assert_eq!(events[n.len() - 2].1["code"], "cannot_translate");
    let d = done(&events);
    assert_eq!(d["status"], "error");
    assert_eq!(d["error"]["code"], "cannot_translate");
    assert_eq!(d["results"], Value::Null);

    // JSON variant: the error's status, a standard error body and the ChatResponse.
    let j = app.post_json("/api/v1/chat", Some(&token), body).await;
    assert_eq!(j.status, 422, "{}", j.text);
    assert_eq!(j.code(), "cannot_translate");
    assert!(!j.detail().is_empty());
    assert_eq!(j.json["status"], "error");
    let s = app
        .get(
            &format!("/api/v1/sessions/{}", j.str("session_id")),
            Some(&token),
        )
        .await;
    assert_eq!(
        s.json["messages"][0]["error"]["code"], "cannot_translate",
        "{}",
        s.text
    );

    // Client mistakes are 4xx before any stream starts.
    for (bad, status) in [
        (json!({"connection_id": conn, "message": "  "}), 422),
        (
            json!({"connection_id": conn, "message": "hi", "options": {"max_rows": 0}}),
            422,
        ),
        (
            json!({"connection_id": conn, "message": "hi", "provider": "gpt-17"}),
            422,
        ),
        (
            json!({"connection_id": uuid::Uuid::now_v7(), "message": "hi"}),
            404,
        ),
        (
            json!({"connection_id": conn, "message": "hi", "session_id": uuid::Uuid::now_v7()}),
            404,
        ),
    ] {
        let (r, events) = app.sse("/api/v1/chat", Some(&token), bad.clone()).await;
        assert_eq!(r.status, status, "{bad}: {}", r.text);
        assert!(events.is_empty());
        assert!(!r.code().is_empty());
    }
    let r = app
        .sse(
            "/api/v1/chat",
            None,
            json!({"connection_id": conn, "message": "hi"}),
        )
        .await
        .0;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_first_waits_for_an_editor_and_approvals_survive_a_restart() {
    let (app, admin, conn, team) = demo_app().await;
    set_mode(&app, &admin, &conn, "review_first").await;
    let viewer = app.create_member(&admin, &team, "vera", "viewer").await;

    let (_, events) = app
        .sse(
            "/api/v1/chat",
            Some(&viewer),
            json!({"connection_id": conn, "message": "how many orders are there?"}),
        )
        .await;
    assert!(!names(&events).contains(&"rows".to_owned()), "{events:?}");
    assert!(!names(&events).contains(&"status:executing".to_owned()));
    let d = done(&events);
    assert_eq!(d["status"], "pending_approval", "{d}");
    assert_eq!(d["results"], Value::Null);
    assert!(d["query"].as_str().is_some());
    let pending_id = d["message_id"].as_str().unwrap().to_owned();
    let session_id = d["session_id"].as_str().unwrap().to_owned();

    // A viewer cannot approve; the queue shows it to editors.
    let r = app
        .post(
            &format!("/api/v1/chat/execute/{pending_id}"),
            Some(&viewer),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app.get("/api/v1/chat/pending", Some(&viewer)).await;
    assert_eq!(r.json["items"], json!([]), "{}", r.text);

    // Restart: the approval is still there.
    let app = app.restart().await;
    let q = app.get("/api/v1/chat/pending", Some(&admin)).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.json["items"][0]["id"], pending_id.as_str(), "{}", q.text);

    let (resp, events) = app
        .sse(
            &format!("/api/v1/chat/execute/{pending_id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        names(&events),
        ["sql", "status:executing", "rows", "done"],
        "{}",
        resp.text
    );
    let d = done(&events);
    assert_eq!(d["status"], "executed", "{d}");
    let orders = d["results"]["rows"][0][0].as_i64().unwrap();
    assert!(orders > 1000, "{d}");
    let again = app
        .post(
            &format!("/api/v1/chat/execute/{pending_id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);

    // Reject another one; it can no longer be approved.
    let d = app
        .post_json(
            "/api/v1/chat",
            Some(&viewer),
            json!({"connection_id": conn, "message": "how many products are there?", "session_id": session_id}),
        )
        .await;
    assert_eq!(d.json["status"], "pending_approval", "{}", d.text);
    let id = d.str("message_id");
    let r = app
        .post(
            &format!("/api/v1/chat/reject/{id}"),
            Some(&viewer),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            &format!("/api/v1/chat/reject/{id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "rejected");
    let r = app
        .post_json(
            &format!("/api/v1/chat/execute/{id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);

    // The viewer's session shows both outcomes.
    let s = app
        .get(&format!("/api/v1/sessions/{session_id}"), Some(&viewer))
        .await;
    let statuses: Vec<&str> = s.json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["executed", "rejected"], "{}", s.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_only_never_executes_and_edits_are_validated() {
    let (app, admin, conn, _) = demo_app().await;
    set_mode(&app, &admin, &conn, "generate_only").await;
    let d = app
        .post_json(
            "/api/v1/chat",
            Some(&admin),
            json!({"connection_id": conn, "message": "how many customers are there?"}),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["status"], "query_only");
    assert_eq!(d.json["results"], Value::Null);
    let id = d.str("message_id");
    let r = app
        .post(
            &format!("/api/v1/chat/execute/{id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT 1"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Edits go through the guard; a refused edit changes nothing.
    let r = app
        .post_json(
            &format!("/api/v1/chat/edit/{id}"),
            Some(&admin),
            json!({"sql": "DELETE FROM customers"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "guard_rejected");
    let r = app
        .post_json(
            &format!("/api/v1/chat/edit/{id}"),
            Some(&admin),
            json!({"sql": "SELECT count(*) FROM custmers"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.detail().contains("customers"), "did you mean: {}", r.text);
    let r = app
        .post_json(
            &format!("/api/v1/chat/edit/{id}"),
            Some(&admin),
            json!({"sql": "SELECT count(*) AS n FROM orders"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "query_only");
    assert_eq!(r.json["query"], "SELECT count(*) AS n FROM orders");

    // Switch to auto_execute: an edit now runs.
    set_mode(&app, &admin, &conn, "auto_execute").await;
    let (resp, events) = app
        .sse(
            &format!("/api/v1/chat/edit/{id}"),
            Some(&admin),
            json!({"sql": "SELECT count(*) AS n FROM products"}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let d = done(&events);
    assert_eq!(d["status"], "executed", "{d}");
    assert_eq!(d["results"]["rows"], json!([[36]]));
    assert_eq!(d["results"]["columns"][0]["name"], "n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_columns_are_masked_on_every_path_and_excluded_ones_refused() {
    let (app, admin, conn, _) = demo_app().await;
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            Some(&admin),
            json!({"masked_column_patterns": ["*email*"], "excluded_columns": ["employees.salary"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A generated question, then an edit that selects the masked column (auto_execute).
    let d = app
        .post_json(
            "/api/v1/chat",
            Some(&admin),
            json!({"connection_id": conn, "message": "how many customers are there?"}),
        )
        .await;
    let id = d.str("message_id");
    let (_, events) = app
        .sse(
            &format!("/api/v1/chat/edit/{id}"),
            Some(&admin),
            json!({"sql": "SELECT first_name, email FROM customers ORDER BY id LIMIT 3"}),
        )
        .await;
    let rows = rows_of(&events);
    assert_eq!(rows.len(), 3, "{events:?}");
    let first_rows = events.iter().find(|(e, _)| e == "rows").unwrap();
    assert_eq!(first_rows.1["columns"][1]["masked"], true, "{first_rows:?}");
    let d = done(&events);
    let mut seen = vec![serde_json::to_string(&events).unwrap()];
    for row in rows.iter().chain(d["results"]["rows"].as_array().unwrap()) {
        assert_eq!(row[1], "****", "{row}");
        assert_ne!(row[0], "****");
    }
    let s = app
        .get(
            &format!("/api/v1/sessions/{}", d["session_id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    seen.push(s.text.clone());
    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT * FROM customers ORDER BY id", "max_rows": 5}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.json["row_count"], 5);
    assert_eq!(run.json["truncated"], true);
    let cols: Vec<&str> = run.json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let email = cols
        .iter()
        .position(|c| *c == "email")
        .expect("email listed");
    assert_eq!(run.json["rows"][0][email], "****");
    seen.push(run.text.clone());
    // No real address appears anywhere (the demo's addresses contain '@').
    for text in &seen {
        assert!(!text.contains('@'), "an email leaked: {text}");
    }

    // Excluded columns are refused, including through SELECT * expansion's complement.
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT first_name, salary FROM employees"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "policy_violation");
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT * FROM employees LIMIT 1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("salary"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_sql_is_validated_and_run_for_editors_only() {
    let (app, admin, conn, team) = demo_app().await;
    let ok = app
        .post(
            "/api/v1/sql/validate",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT name FROM products WHERE unit_price > 100"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["valid"], true);
    assert_eq!(ok.json["tables"], json!(["products"]));
    assert!(ok.str("normalized_sql").contains("LIMIT"), "{}", ok.text);

    let bad = app
        .post(
            "/api/v1/sql/validate",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT nmae FROM products"}),
        )
        .await;
    assert_eq!(bad.status, 200);
    assert_eq!(bad.json["valid"], false);
    assert_eq!(bad.json["code"], "guard_rejected");
    assert_eq!(bad.json["suggestions"][0], "name", "{}", bad.text);
    for sql in [
        "DROP TABLE customers",
        "SELECT 1; DELETE FROM orders",
        "ATTACH DATABASE '/tmp/x' AS x",
        "SELECT load_extension('x')",
    ] {
        let r = app
            .post(
                "/api/v1/sql/validate",
                Some(&admin),
                json!({"connection_id": conn, "sql": sql}),
            )
            .await;
        assert_eq!(r.json["valid"], false, "{sql}: {}", r.text);
    }

    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT count(*) AS n, min(order_date) AS first FROM orders"}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert!(run.json["rows"][0][0].as_i64().unwrap() > 1000);
    assert!(run.json["rows"][0][1].is_string());
    assert!(run.json["execution_time_ms"].is_u64());
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT no_such_fn(1)"}),
        )
        .await;
    // A function off the allow-list never reaches the database.
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "policy_violation");
    assert!(r.detail().contains("no_such_fn"), "{}", r.text);
    // An error of the database itself is a 422 query_error.
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT json('{not json')"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "query_error");

    let viewer = app.create_member(&admin, &team, "val", "viewer").await;
    for path in ["/api/v1/sql/validate", "/api/v1/sql/run"] {
        let r = app
            .post(
                path,
                Some(&viewer),
                json!({"connection_id": conn, "sql": "SELECT 1"}),
            )
            .await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_connections_sessions_and_messages_are_not_found() {
    let (app, admin, conn, _) = demo_app().await;
    let d = app
        .post_json(
            "/api/v1/chat",
            Some(&admin),
            json!({"connection_id": conn, "message": "how many customers are there?"}),
        )
        .await;
    let message = d.str("message_id");
    let session = d.str("session_id");

    // An outsider with a team of their own.
    let (_, outsider) = app.create_user(&admin, "otto").await;
    let r = app
        .post("/api/v1/teams", Some(&outsider), json!({"name": "Otto's"}))
        .await;
    assert!(r.status == 201 || r.status == 403, "{}", r.text);
    let checks: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/chat".into(),
            Some(json!({"connection_id": conn, "message": "how many customers?"})),
        ),
        ("GET", format!("/api/v1/sessions/{session}"), None),
        ("DELETE", format!("/api/v1/sessions/{session}"), None),
        (
            "POST",
            format!("/api/v1/chat/execute/{message}"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/api/v1/chat/reject/{message}"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/api/v1/chat/edit/{message}"),
            Some(json!({"sql": "SELECT 1"})),
        ),
        (
            "POST",
            "/api/v1/sql/validate".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT 1"})),
        ),
        (
            "POST",
            "/api/v1/sql/run".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT 1"})),
        ),
    ];
    for (method, path, body) in checks {
        let r: Response = app.request(method, &path, Some(&outsider), body).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    }
    let r = app.get("/api/v1/sessions", Some(&outsider)).await;
    assert_eq!(r.json["items"], json!([]));

    // The owner deletes the session; it is gone.
    let r = app
        .delete(&format!("/api/v1/sessions/{session}"), Some(&admin))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/sessions/{session}"), Some(&admin))
        .await;
    assert_eq!(r.status, 404);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_left_running_by_a_crash_end_as_interrupted_at_start() {
    let (app, token, conn, _) = demo_app().await;
    let first = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "how many customers are there?"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let session = first.str("session_id");
    let crashed = first.str("message_id");
    let follow = |q: &str| json!({"connection_id": conn, "session_id": session, "message": q});
    let live = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            follow("how many orders are there?"),
        )
        .await
        .str("message_id");
    set_mode(&app, &token, &conn, "review_first").await;
    let pending = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            follow("how many products are there?"),
        )
        .await;
    assert_eq!(
        pending.json["status"], "pending_approval",
        "{}",
        pending.text
    );
    let pending = pending.str("message_id");

    // A crash in the middle of two answers: the store keeps them `running`. One was last
    // touched an hour ago; the other just now (on a shared PostgreSQL store: as if another
    // live instance were answering it, its heartbeat fresh).
    app.stop().await;
    let now = now_ms();
    app.store_execute(&format!(
        "UPDATE messages SET status = 'running', error_code = NULL, error_detail = NULL, \
         updated_at = {old} WHERE id = '{crashed}';
         UPDATE messages SET status = 'running', error_code = NULL, error_detail = NULL, \
         updated_at = {now} WHERE id = '{live}';",
        old = now - 3_600_000
    ))
    .await;
    let app = app.restart().await;

    let s = app
        .get(&format!("/api/v1/sessions/{session}"), Some(&token))
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let messages = s.json["messages"].as_array().unwrap().clone();
    let message = |id: &str| {
        messages
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("message {id} missing: {}", s.text))
            .clone()
    };
    let m = message(&crashed);
    assert_eq!(
        (m["status"].as_str(), m["error"]["code"].as_str()),
        (Some("error"), Some("interrupted")),
        "{m}"
    );
    assert!(
        m["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ask the question again")),
        "{m}"
    );
    let m = message(&live);
    if app.pg_store().is_some() {
        // Shared store: another instance may be answering it; only stale ones end at start.
        assert_eq!(m["status"], "running", "{m}");
    } else {
        // The embedded store belongs to this one server: everything running is from before.
        assert_eq!(
            (m["status"].as_str(), m["error"]["code"].as_str()),
            (Some("error"), Some("interrupted")),
            "{m}"
        );
    }
    // Approvals are not in flight: they survive restarts untouched.
    assert_eq!(message(&pending)["status"], "pending_approval");
}
