//! Snapshots (insta) of what clients parse: the chat's `done` payload in each status, and
//! error bodies across the codes. Ids, timestamps, tokens and durations are redacted
//! (`querent_test_support::snapshot::redact`); everything else must stay as it is, so a
//! change to these shapes shows up as a snapshot diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always` and read the diff in `tests/api/snapshots/`).

use querent_domain::{ExecutionMode, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::snapshot::redact;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_done_payloads() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let ask = |message: &str| json!({"connection_id": conn, "message": message});

    let executed = admin
        .chat_stream(ask("how many customers are there?"))
        .await;
    insta::assert_json_snapshot!("done_executed", redact(&executed.done.json));

    let cached = admin
        .chat_stream(ask("how many customers are there?"))
        .await;
    insta::assert_json_snapshot!("done_cached", redact(&cached.done.json));

    let error = admin
        .chat_stream(ask("what's the weather like tomorrow in Paris?"))
        .await;
    insta::assert_json_snapshot!("done_error", redact(&error.done.json));

    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let pending = admin.chat_stream(ask("how many products are there?")).await;
    insta::assert_json_snapshot!("done_pending_approval", redact(&pending.done.json));

    admin.set_mode(conn, ExecutionMode::GenerateOnly).await;
    let query_only = admin
        .chat_stream(
            json!({"connection_id": conn, "message": "how many orders are there?",
                            "options": {"explain_results": true}}),
        )
        .await;
    insta::assert_json_snapshot!("done_query_only", redact(&query_only.done.json));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn, team) = (app.admin(), app.demo().id, app.demo().team_id);
    let viewer = admin.create_member(team, "vic", TeamRole::Viewer).await;
    let missing = uuid::Uuid::now_v7();
    let cases: Vec<(
        &str,
        querent_test_support::Client,
        &str,
        String,
        Option<Value>,
    )> = vec![
        (
            "unauthorized_without_a_token",
            admin.anonymous(),
            "GET",
            "/api/v1/connections".into(),
            None,
        ),
        (
            "unauthorized_with_a_bad_token",
            admin.with_token("not-a-token"),
            "GET",
            "/api/v1/connections".into(),
            None,
        ),
        (
            "already_initialized",
            admin.anonymous(),
            "POST",
            "/api/v1/auth/setup".into(),
            Some(json!({"username": "again", "password": "again-password-1"})),
        ),
        (
            "invalid_credentials",
            admin.anonymous(),
            "POST",
            "/api/v1/auth/login".into(),
            Some(json!({"username": "admin", "password": "wrong-password"})),
        ),
        (
            "not_found",
            admin.clone(),
            "GET",
            format!("/api/v1/connections/{missing}"),
            None,
        ),
        (
            "validation_error",
            admin.clone(),
            "POST",
            "/api/v1/connections".into(),
            Some(json!({"name": "x", "dialect": "postgres", "host": "h", "port": "x"})),
        ),
        (
            "forbidden_for_a_viewer",
            viewer.clone(),
            "POST",
            "/api/v1/sql/run".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT 1"})),
        ),
        (
            "policy_violation",
            admin.clone(),
            "POST",
            "/api/v1/sql/run".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT no_such_fn(1)"})),
        ),
        (
            "guard_rejected",
            admin.clone(),
            "POST",
            "/api/v1/sql/run".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT nmae FROM products"})),
        ),
        (
            "query_error",
            admin.clone(),
            "POST",
            "/api/v1/sql/run".into(),
            Some(json!({"connection_id": conn, "sql": "SELECT json('{not json')"})),
        ),
    ];
    for (name, client, method, path, body) in cases {
        let r = client.send(method, &path, body).await;
        let e = r.error();
        insta::assert_json_snapshot!(name, json!({"status": e.status, "body": redact(&r.json)}));
    }
}
