//! The chat flow over HTTP on the generated demo database with the offline provider: SSE
//! event order, `done` = the complete ChatResponse, the JSON variant, all three execution
//! modes (approvals survive a restart), edits, masking on every path, sessions, hand-written
//! SQL, and team isolation. Written against the typed client (`TestApp::with_demo`,
//! `Client`, `views`); the shapes themselves are pinned by snapshots (`snapshots.rs`).

use querent_domain::query::TruncationReason;
use querent_domain::{ErrorCode, ExecutionMode, MessageStatus, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::views::ResultView;
use querent_test_support::views::{Page, SessionDetail, SessionView, SqlValidation};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_streams_status_sql_rows_and_a_complete_done() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let s = admin
        .chat_stream(
            json!({"connection_id": conn, "message": "how many customers are there?",
                   "options": {"explain_results": true}}),
        )
        .await;
    assert_eq!(
        s.names(),
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
        ]
    );
    let sql = s.event("sql");
    let query = sql["query"].as_str().unwrap().to_lowercase();
    assert!(
        query.contains("count(*)") && query.contains("customers"),
        "{query}"
    );
    assert_eq!(sql["dialect"], "sqlite");
    let rows = s.event("rows");
    assert_eq!(rows["rows"], json!([[600]]), "the demo has 600 customers");
    assert!(rows["columns"].is_array());
    // `done` carries the complete answer (every field: it deserialised into ChatAnswer).
    let d = &s.done;
    assert_eq!(d.status, MessageStatus::Executed);
    assert_eq!(d.rows(), [[json!(600)]]);
    let results = d.results.as_ref().unwrap();
    assert_eq!((results.row_count, results.truncated), (1, false));
    assert_eq!(d.query.as_deref(), sql["query"].as_str());
    assert!(!d.cache_hit);
    assert!(d.explanation.as_deref().unwrap().contains("1 row"), "{d:?}");

    // The JSON variant answers with the same ChatResponse in one body.
    let j = admin
        .chat(
            json!({"connection_id": conn, "message": "how many customers are there?",
                   "session_id": d.session_id, "options": {"show_query": false}}),
        )
        .await;
    assert_eq!(j.status, MessageStatus::Executed);
    assert_eq!(j.query, None, "show_query=false hides the SQL");
    assert_eq!(j.explanation, None);
    assert_eq!(j.rows(), [[json!(600)]]);
    assert_eq!(j.session_id, d.session_id);

    // show_query=false: no sql event either; max_rows caps and flags truncation.
    let s = admin
        .chat_stream(
            json!({"connection_id": conn, "message": "list all customers",
                   "options": {"show_query": false, "max_rows": 7}}),
        )
        .await;
    assert!(!s.names().contains(&"sql".to_owned()), "{:?}", s.names());
    assert_eq!(s.done.status, MessageStatus::Executed);
    assert_eq!(s.done.query, None);
    let results = s.done.results.as_ref().unwrap();
    assert_eq!((results.row_count, results.truncated), (7, true));
    assert_eq!(s.rows().len(), 7);

    // The session keeps the messages in order with SQL, status and a row preview.
    let session: SessionDetail = admin
        .get(&format!("/api/v1/sessions/{}", j.session_id))
        .await;
    assert_eq!(session.messages.len(), 2);
    assert_eq!(session.messages[0].status, MessageStatus::Executed);
    assert!(
        session.messages[0]
            .sql
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("count")
    );
    assert_eq!(
        session.messages[1].results.as_ref().unwrap().rows,
        [[json!(600)]]
    );
    let sessions: Page<SessionView> = admin.get("/api/v1/sessions").await;
    assert_eq!(sessions.items.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untranslatable_question_ends_with_an_error_event_and_is_kept() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let body =
        json!({"connection_id": conn, "message": "what's the weather like tomorrow in Paris?"});
    let s = admin.chat_stream(body.clone()).await;
    let n = s.names();
    assert_eq!(n[n.len() - 2], "error", "{n:?}");
    assert_eq!(s.event("error")["code"], "cannot_translate");
    assert_eq!(s.done.status, MessageStatus::Error);
    assert_eq!(s.done.error_code(), ErrorCode::CannotTranslate);
    assert_eq!(s.done.results, None);

    // JSON variant: the error's status, a standard error body and the ChatResponse.
    let r = admin.chat_raw(body).await;
    let e = r.error();
    assert_eq!((e.status, e.code), (422, ErrorCode::CannotTranslate));
    assert!(!e.detail.is_empty());
    assert_eq!(r.json["status"], "error");
    let session: SessionDetail = admin
        .get(&format!("/api/v1/sessions/{}", r.str("session_id")))
        .await;
    assert_eq!(
        session.messages[0].error.as_ref().unwrap().code,
        ErrorCode::CannotTranslate
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
        let r = app
            .sse("/api/v1/chat", Some(admin.token()), bad.clone())
            .await;
        assert!(r.1.is_empty(), "{bad}: no stream");
        assert_eq!(r.0.error().status, status, "{bad}: {}", r.0.text);
    }
    let e = admin
        .anonymous()
        .fails(
            "POST",
            "/api/v1/chat",
            Some(json!({"connection_id": conn, "message": "hi"})),
        )
        .await;
    assert_eq!(e.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_first_waits_for_an_editor_and_approvals_survive_a_restart() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn, team) = (app.admin(), app.demo().id, app.demo().team_id);
    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let viewer = admin.create_member(team, "vera", TeamRole::Viewer).await;

    let s = viewer
        .chat_stream(json!({"connection_id": conn, "message": "how many orders are there?"}))
        .await;
    assert!(!s.names().contains(&"rows".to_owned()), "{:?}", s.names());
    assert!(!s.names().contains(&"status:executing".to_owned()));
    assert_eq!(s.done.status, MessageStatus::PendingApproval);
    assert_eq!(s.done.results, None);
    assert!(s.done.query.is_some());
    let (pending_id, session_id) = (s.done.message_id, s.done.session_id);

    // A viewer cannot approve; the queue shows it to editors.
    let e = viewer
        .fails(
            "POST",
            &format!("/api/v1/chat/execute/{pending_id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(e.status, 403);
    let queue: Page<Value> = viewer.get("/api/v1/chat/pending").await;
    assert!(queue.items.is_empty());

    // Restart: the approval is still there.
    let app = app.restart().await;
    let admin = app.admin();
    let queue: Page<Value> = admin.get("/api/v1/chat/pending").await;
    assert_eq!(queue.items[0]["id"], pending_id.to_string());

    let s = admin
        .stream(&format!("/api/v1/chat/execute/{pending_id}"), json!({}))
        .await;
    assert_eq!(s.names(), ["sql", "status:executing", "rows", "done"]);
    assert_eq!(s.done.status, MessageStatus::Executed);
    let orders = s.done.rows()[0][0].as_i64().unwrap();
    assert!(orders > 1000, "{:?}", s.done);
    let again = admin
        .fails(
            "POST",
            &format!("/api/v1/chat/execute/{pending_id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(again.status, 409);

    // Reject another one; it can no longer be approved.
    let viewer = app.client(viewer.token());
    let d = viewer
        .chat(json!({"connection_id": conn, "message": "how many products are there?", "session_id": session_id}))
        .await;
    assert_eq!(d.status, MessageStatus::PendingApproval);
    let reject = format!("/api/v1/chat/reject/{}", d.message_id);
    assert_eq!(
        viewer.fails("POST", &reject, Some(json!({}))).await.status,
        403
    );
    let rejected: Value = admin.post(&reject, json!({})).await;
    assert_eq!(rejected["status"], "rejected");
    let r = admin
        .post_json_variant(&format!("/api/v1/chat/execute/{}", d.message_id), json!({}))
        .await;
    assert_eq!(r.error().status, 409);

    // The viewer's session shows both outcomes.
    let session: SessionDetail = viewer.get(&format!("/api/v1/sessions/{session_id}")).await;
    let statuses: Vec<MessageStatus> = session.messages.iter().map(|m| m.status).collect();
    assert_eq!(statuses, [MessageStatus::Executed, MessageStatus::Rejected]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_only_never_executes_and_edits_are_validated() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    admin.set_mode(conn, ExecutionMode::GenerateOnly).await;
    let d = admin.ask(conn, "how many customers are there?").await;
    assert_eq!(d.status, MessageStatus::QueryOnly);
    assert_eq!(d.results, None);
    let id = d.message_id;
    let e = admin
        .fails(
            "POST",
            &format!("/api/v1/chat/execute/{id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(e.status, 403);
    let e = admin
        .fails(
            "POST",
            "/api/v1/sql/run",
            Some(json!({"connection_id": conn, "sql": "SELECT 1"})),
        )
        .await;
    assert_eq!(e.status, 403);

    // Edits go through the guard; a refused edit changes nothing.
    let edit = format!("/api/v1/chat/edit/{id}");
    let e = admin
        .post_json_variant(&edit, json!({"sql": "DELETE FROM customers"}))
        .await
        .error();
    assert_eq!((e.status, e.code), (422, ErrorCode::GuardRejected));
    let e = admin
        .post_json_variant(&edit, json!({"sql": "SELECT count(*) FROM custmers"}))
        .await
        .error();
    assert_eq!(e.status, 422);
    assert!(e.detail.contains("customers"), "did you mean: {e:?}");
    let edited = admin
        .post_json_variant(&edit, json!({"sql": "SELECT count(*) AS n FROM orders"}))
        .await
        .answer();
    assert_eq!(edited.status, MessageStatus::QueryOnly);
    assert_eq!(
        edited.query.as_deref(),
        Some("SELECT count(*) AS n FROM orders")
    );

    // Switch to auto_execute: an edit now runs.
    admin.set_mode(conn, ExecutionMode::AutoExecute).await;
    let s = admin
        .stream(&edit, json!({"sql": "SELECT count(*) AS n FROM products"}))
        .await;
    assert_eq!(s.done.status, MessageStatus::Executed);
    assert_eq!(s.done.rows(), [[json!(36)]]);
    assert_eq!(s.done.results.as_ref().unwrap().columns, ["n"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_columns_are_masked_on_every_path_and_excluded_ones_refused() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            json!({"masked_column_patterns": ["*email*"], "excluded_columns": ["employees.salary"]}),
        )
        .await;

    // A generated question, then an edit that selects the masked column (auto_execute).
    let d = admin.ask(conn, "how many customers are there?").await;
    let s = admin
        .stream(
            &format!("/api/v1/chat/edit/{}", d.message_id),
            json!({"sql": "SELECT first_name, email FROM customers ORDER BY id LIMIT 3"}),
        )
        .await;
    let rows = s.rows();
    assert_eq!(rows.len(), 3, "{:?}", s.events);
    assert_eq!(s.event("rows")["columns"][1]["masked"], true);
    let mut seen = vec![serde_json::to_string(&s.done.json).unwrap()];
    seen.extend(s.events.iter().map(|e| e.data.to_string()));
    let done_rows: Vec<Value> = s.done.rows().into_iter().map(Value::from).collect();
    for row in rows.iter().chain(&done_rows) {
        assert_eq!(row[1], "****", "{row}");
        assert_ne!(row[0], "****");
    }
    let session = admin
        .send(
            "GET",
            &format!("/api/v1/sessions/{}", s.done.session_id),
            None,
        )
        .await;
    seen.push(session.text.clone());
    let run = admin
        .send(
            "POST",
            "/api/v1/sql/run",
            Some(
                json!({"connection_id": conn, "sql": "SELECT * FROM customers ORDER BY id", "max_rows": 5}),
            ),
        )
        .await;
    let result: ResultView = run.typed();
    assert_eq!((result.row_count, result.truncated), (5, true));
    let email = result
        .columns
        .iter()
        .position(|c| c == "email")
        .expect("email listed");
    assert_eq!(result.rows[0][email], "****");
    seen.push(run.text.clone());
    // No real address appears anywhere (the demo's addresses contain '@').
    for text in &seen {
        assert!(!text.contains('@'), "an email leaked: {text}");
    }

    // Excluded columns are refused, including through SELECT * expansion's complement.
    let e = admin
        .fails(
            "POST",
            "/api/v1/sql/run",
            Some(json!({"connection_id": conn, "sql": "SELECT first_name, salary FROM employees"})),
        )
        .await;
    assert_eq!((e.status, e.code), (403, ErrorCode::PolicyViolation));
    let star: ResultView = admin
        .post(
            "/api/v1/sql/run",
            json!({"connection_id": conn, "sql": "SELECT * FROM employees LIMIT 1"}),
        )
        .await;
    assert!(star.columns.iter().all(|c| c != "salary"), "{star:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_sql_is_validated_and_run_for_editors_only() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn, team) = (app.admin(), app.demo().id, app.demo().team_id);
    let validate = |sql: &str| {
        let admin = admin.clone();
        let body = json!({"connection_id": conn, "sql": sql});
        async move {
            admin
                .post::<SqlValidation>("/api/v1/sql/validate", body)
                .await
        }
    };
    let ok = validate("SELECT name FROM products WHERE unit_price > 100").await;
    assert!(ok.valid);
    assert_eq!(ok.tables, ["products"]);
    assert!(
        ok.normalized_sql.as_deref().unwrap().contains("LIMIT"),
        "{ok:?}"
    );

    let bad = validate("SELECT nmae FROM products").await;
    assert!(!bad.valid);
    assert_eq!(bad.code, Some(ErrorCode::GuardRejected));
    assert_eq!(bad.suggestions[0], "name", "{bad:?}");
    for sql in [
        "DROP TABLE customers",
        "SELECT 1; DELETE FROM orders",
        "ATTACH DATABASE '/tmp/x' AS x",
        "SELECT load_extension('x')",
    ] {
        assert!(!validate(sql).await.valid, "{sql}");
    }

    let run: ResultView = admin
        .post(
            "/api/v1/sql/run",
            json!({"connection_id": conn, "sql": "SELECT count(*) AS n, min(order_date) AS first FROM orders"}),
        )
        .await;
    assert!(run.rows[0][0].as_i64().unwrap() > 1000);
    assert!(run.rows[0][1].is_string());
    let run_sql = |sql: &str| {
        let admin = admin.clone();
        let body = json!({"connection_id": conn, "sql": sql});
        async move { admin.fails("POST", "/api/v1/sql/run", Some(body)).await }
    };
    // A function off the allow-list never reaches the database.
    let e = run_sql("SELECT no_such_fn(1)").await;
    assert_eq!((e.status, e.code), (403, ErrorCode::PolicyViolation));
    assert!(e.detail.contains("no_such_fn"), "{e:?}");
    // An error of the database itself is a 422 query_error.
    let e = run_sql("SELECT json('{not json')").await;
    assert_eq!((e.status, e.code), (422, ErrorCode::QueryError));

    let viewer = admin.create_member(team, "val", TeamRole::Viewer).await;
    for path in ["/api/v1/sql/validate", "/api/v1/sql/run"] {
        let e = viewer
            .fails(
                "POST",
                path,
                Some(json!({"connection_id": conn, "sql": "SELECT 1"})),
            )
            .await;
        assert_eq!(e.status, 403, "{path}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_connections_sessions_and_messages_are_not_found() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let d = admin.ask(conn, "how many customers are there?").await;
    let (message, session) = (d.message_id, d.session_id);

    // An outsider with a team of their own.
    let (_, outsider) = admin.create_user("otto").await;
    let r = outsider
        .send("POST", "/api/v1/teams", Some(json!({"name": "Otto's"})))
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
        let e = outsider.fails(method, &path, body).await;
        assert_eq!(
            (e.status, e.code),
            (404, ErrorCode::NotFound),
            "{method} {path}"
        );
    }
    let sessions: Page<SessionView> = outsider.get("/api/v1/sessions").await;
    assert!(sessions.items.is_empty());

    // The owner deletes the session; it is gone.
    let path = format!("/api/v1/sessions/{session}");
    admin.delete(&path).await;
    assert_eq!(admin.fails("GET", &path, None).await.status, 404);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_left_running_by_a_crash_end_as_interrupted_at_start() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let first = admin.ask(conn, "how many customers are there?").await;
    let (session, crashed) = (first.session_id, first.message_id);
    let follow = |q: &str| json!({"connection_id": conn, "session_id": session, "message": q});
    let live = admin
        .chat(follow("how many orders are there?"))
        .await
        .message_id;
    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let pending = admin.chat(follow("how many products are there?")).await;
    assert_eq!(pending.status, MessageStatus::PendingApproval);
    let pending = pending.message_id;

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

    let detail: SessionDetail = app
        .admin()
        .get(&format!("/api/v1/sessions/{session}"))
        .await;
    let message = |id| {
        detail
            .messages
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("message {id} missing: {detail:?}"))
    };
    let m = message(crashed);
    let error = m.error.as_ref().expect("an error");
    assert_eq!(
        (m.status, error.code),
        (MessageStatus::Error, ErrorCode::Interrupted)
    );
    assert!(error.detail.contains("ask the question again"), "{m:?}");
    let m = message(live);
    if app.pg_store().is_some() {
        // Shared store: another instance may be answering it; only stale ones end at start.
        assert_eq!(m.status, MessageStatus::Running, "{m:?}");
    } else {
        // The embedded store belongs to this one server: everything running is from before.
        assert_eq!(
            (m.status, m.error.as_ref().map(|e| e.code)),
            (MessageStatus::Error, Some(ErrorCode::Interrupted))
        );
    }
    // Approvals are not in flight: they survive restarts untouched.
    assert_eq!(message(pending).status, MessageStatus::PendingApproval);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_carry_column_names_every_row_asked_for_and_the_cap_that_applied() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);

    // The seed API's shape: column names (types alongside), the dialect's display name.
    let d = admin.ask(conn, "how many customers are there?").await;
    assert_eq!(d.query_dialect, "SQLite");
    let r = d.results.as_ref().unwrap();
    assert_eq!(d.json["results"]["columns"], json!(r.columns), "names only");
    assert!(d.json["results"]["columns"][0].is_string(), "{}", d.json);
    assert_eq!(r.column_types.len(), r.columns.len());
    assert!(r.masked_columns.is_empty());
    assert!(d.json["results"]["execution_time_ms"].is_number());
    assert_eq!((r.row_count, r.preview, r.truncated), (1, false, false));
    assert_eq!(r.max_rows_applied, Some(100), "the default max_rows");

    // 300 rows asked for and delivered: the JSON answer and `done` carry all 300 (not the
    // history's 200), untruncated; the stored copy says it is a preview.
    let first = admin
        .chat(
            json!({"connection_id": conn, "message": "how many customers are there?",
                     "options": {"max_rows": 300}}),
        )
        .await;
    let edit = format!("/api/v1/chat/edit/{}", first.message_id);
    let sql = json!({"sql": "SELECT id, email FROM customers ORDER BY id LIMIT 300"});
    let j = admin.post_json_variant(&edit, sql.clone()).await.answer();
    let r = j.results.as_ref().unwrap();
    assert_eq!((r.rows.len(), r.row_count), (300, 300), "{:?}", j.error);
    assert_eq!(
        (r.truncated, r.truncated_reason, r.preview),
        (false, None, false)
    );
    assert_eq!(r.columns, ["id", "email"]);
    assert_eq!(r.column_types.len(), 2);
    assert_eq!(r.max_rows_applied, Some(300));
    let s = admin.stream(&edit, sql).await;
    assert_eq!(s.rows().len(), 300, "rows events");
    assert_eq!(s.done.rows().len(), 300, "done");
    let session: SessionDetail = admin
        .get(&format!("/api/v1/sessions/{}", j.session_id))
        .await;
    let stored = session.messages[0].results.as_ref().unwrap();
    assert_eq!((stored.rows.len(), stored.row_count), (200, 300));
    assert!(stored.preview && !stored.truncated, "{stored:?}");
    assert_eq!(stored.columns, ["id", "email"]);

    // A max_rows above the connection's cap runs under the cap, and says so.
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{conn}/config"),
            json!({"statement_timeout_ms": 30000, "max_rows": 250}),
        )
        .await;
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            json!({"masked_column_patterns": ["*email*"]}),
        )
        .await;
    let capped = admin
        .chat(
            json!({"connection_id": conn, "message": "list all customers",
                     "options": {"max_rows": 400}}),
        )
        .await;
    let r = capped.results.as_ref().unwrap();
    assert_eq!((r.rows.len(), r.row_count), (250, 250), "{}", capped.json);
    assert!(r.truncated && !r.preview);
    assert_eq!(
        (r.truncated_reason, r.truncated_limit, r.max_rows_applied),
        (Some(TruncationReason::RowCap), Some(250), Some(250))
    );
    let run: ResultView = admin
        .post(
            "/api/v1/sql/run",
            json!({"connection_id": conn, "sql": "SELECT id, email FROM customers", "max_rows": 400}),
        )
        .await;
    assert_eq!((run.row_count, run.truncated), (250, true));
    assert_eq!(run.masked_columns, ["email"]);
    assert_eq!(run.rows[0][1], "****");
    assert_eq!(
        (
            run.truncated_reason,
            run.truncated_limit,
            run.max_rows_applied
        ),
        (Some(TruncationReason::RowCap), Some(250), Some(250))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_rows_above_the_servers_cap_is_lowered_and_reported() {
    let app = TestApp::builder()
        .with_demo()
        .config(|c| c.server_max_rows = 120)
        .spawn()
        .await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let d = admin
        .chat(
            json!({"connection_id": conn, "message": "list all customers",
                     "options": {"max_rows": 500}}),
        )
        .await;
    let r = d.results.as_ref().unwrap();
    assert_eq!((r.rows.len(), r.row_count), (120, 120), "{}", d.json);
    assert_eq!(
        (
            r.truncated,
            r.truncated_reason,
            r.truncated_limit,
            r.max_rows_applied
        ),
        (true, Some(TruncationReason::RowCap), Some(120), Some(120))
    );
}
