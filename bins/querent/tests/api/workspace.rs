//! The analytics workspace through HTTP: saved queries (save, find, run, runs, roles,
//! isolation, policy on every run) and dashboards (live widget data, the shared result
//! cache, a failing widget beside working ones, layout).

use querent_domain::{ErrorCode, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::views::{Page, ResultView, TeamView};
use serde::Deserialize;
use serde_json::{Value, json};

/// A saved query as the API returns it.
#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    pub id: String,
    pub team_id: String,
    pub connection_id: String,
    pub name: String,
    pub description: Option<String>,
    pub question: Option<String>,
    pub sql: String,
    pub tags: Vec<String>,
    pub provider: Option<String>,
    pub message_id: Option<String>,
    pub created_by: String,
}

#[derive(Debug, Deserialize)]
struct RunResult {
    run_id: String,
    query_id: String,
    result: ResultView,
}

#[derive(Debug, Deserialize)]
struct RunView {
    id: String,
    run_by: String,
    row_count: Option<u64>,
    error: Option<Value>,
    has_snapshot: bool,
}

#[derive(Debug, Deserialize)]
struct WidgetView {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    position: Value,
    data: Option<ResultView>,
    error: Option<Value>,
    cached: bool,
}

#[derive(Debug, Deserialize)]
struct DashboardView {
    id: String,
    name: String,
    refresh_seconds: u32,
    widgets: Vec<WidgetView>,
}

/// Saves `sql` on the demo connection as `name`.
pub async fn save(
    client: &querent_test_support::Client,
    conn: &str,
    name: &str,
    sql: &str,
) -> SavedQuery {
    client
        .post(
            "/api/v1/queries",
            json!({"name": name, "connection_id": conn, "sql": sql}),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_queries_are_kept_found_and_run_under_the_current_policy() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id.to_string();

    // Saved by hand: the guard checks it first.
    let count = admin
        .post::<SavedQuery>(
            "/api/v1/queries",
            json!({"name": "Customers", "connection_id": demo, "sql": "SELECT COUNT(*) AS n FROM customers",
                "question": "How many customers?", "description": "all of them", "tags": ["Sales", "kpi", "kpi"]}),
        )
        .await;
    assert_eq!(count.connection_id, demo);
    assert_eq!(count.question.as_deref(), Some("How many customers?"));
    assert_eq!(count.tags, ["kpi", "sales"], "tags normalised");
    assert_eq!(count.provider.as_deref(), Some("user"));
    assert!(count.created_by.starts_with("user:"));
    let refused = admin
        .fails(
            "POST",
            "/api/v1/queries",
            Some(json!({"name": "x", "connection_id": demo, "sql": "DELETE FROM customers"})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code),
        (422, ErrorCode::GuardRejected)
    );
    let typo = admin
        .fails(
            "POST",
            "/api/v1/queries",
            Some(json!({"name": "x", "connection_id": demo, "sql": "SELECT emial FROM customers"})),
        )
        .await;
    assert_eq!(typo.status, 422);
    assert!(typo.detail.contains("email"), "{typo:?}");
    for body in [
        json!({"name": "x"}),
        json!({"name": "", "connection_id": demo, "sql": "SELECT 1"}),
        json!({"name": "x", "connection_id": demo}),
        json!({"name": "x", "message_id": demo, "sql": "SELECT 1"}),
        json!({"name": "x", "connection_id": demo, "sql": "SELECT 1", "tags": [""]}),
    ] {
        let e = admin
            .fails("POST", "/api/v1/queries", Some(body.clone()))
            .await;
        assert_eq!(
            (e.status, e.code),
            (422, ErrorCode::ValidationError),
            "{body}"
        );
    }

    // Saved from a chat answer: question, SQL, connection and provider are kept.
    let answer = admin.ask(app.demo().id, "how many orders are there?").await;
    let from_chat: SavedQuery = admin
        .post(
            "/api/v1/queries",
            json!({"name": "Orders", "message_id": answer.message_id, "tags": ["ops"]}),
        )
        .await;
    assert_eq!(
        from_chat.question.as_deref(),
        Some("how many orders are there?")
    );
    assert_eq!(Some(from_chat.sql.as_str()), answer.query.as_deref());
    assert_eq!(from_chat.provider.as_deref(), Some("offline"));
    assert_eq!(from_chat.message_id, Some(answer.message_id.to_string()));

    // Found again by tag, text and connection, a page at a time.
    let by_tag: Page<SavedQuery> = admin.get("/api/v1/queries?tag=KPI").await;
    assert_eq!(
        by_tag.items.iter().map(|q| &q.name).collect::<Vec<_>>(),
        ["Customers"]
    );
    let by_text: Page<SavedQuery> = admin.get("/api/v1/queries?q=ORDERS").await;
    assert_eq!(
        by_text.items.iter().map(|q| &q.name).collect::<Vec<_>>(),
        ["Orders"]
    );
    let first: Page<SavedQuery> = admin
        .get(&format!("/api/v1/queries?connection_id={demo}&limit=1"))
        .await;
    assert_eq!(first.items[0].name, "Customers");
    let cursor = first.next_cursor.expect("a second page");
    let second: Page<SavedQuery> = admin
        .get(&format!(
            "/api/v1/queries?connection_id={demo}&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(second.items[0].name, "Orders");
    assert_eq!(second.next_cursor, None);

    // Changed: null clears, new SQL is checked again.
    let path = format!("/api/v1/queries/{}", count.id);
    let changed: SavedQuery = admin
        .patch(
            &path,
            json!({"description": null, "name": "Customer count"}),
        )
        .await;
    assert_eq!(
        (changed.description, changed.name.as_str()),
        (None, "Customer count")
    );
    let bad = admin
        .fails("PATCH", &path, Some(json!({"sql": "DROP TABLE customers"})))
        .await;
    assert_eq!(bad.status, 422);
    let got: SavedQuery = admin.get(&path).await;
    assert_eq!(
        got.sql, "SELECT COUNT(*) AS n FROM customers",
        "a refused edit changes nothing"
    );
    assert_eq!(got.team_id, app.setup().team.id.to_string());

    // Run now (an empty body is fine), and the run is recorded.
    let ran = admin
        .send_raw("POST", &format!("{path}/run"), "")
        .await
        .typed::<RunResult>();
    assert_eq!(ran.query_id, count.id);
    assert_eq!(ran.result.columns, ["n"]);
    assert!(ran.result.rows[0][0].as_i64().unwrap() > 0);
    let snap: RunResult = admin
        .post(
            &format!("{path}/run"),
            json!({"snapshot": true, "max_rows": 5}),
        )
        .await;
    let runs: Vec<RunView> = admin.get(&format!("{path}/runs")).await;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, snap.run_id, "newest first");
    assert!(runs[0].has_snapshot && !runs[1].has_snapshot);
    assert_eq!(runs[1].id, ran.run_id);
    assert_eq!(runs[0].row_count, Some(1));
    assert!(runs[0].run_by.starts_with("user:"));

    // Every run goes through the guard under the policy of now: a masked column comes
    // back masked, an excluded table is refused — and the refusal is recorded too.
    let emails = save(
        &admin,
        &demo,
        "Emails",
        "SELECT email FROM customers ORDER BY id",
    )
    .await;
    let conn = format!("/api/v1/connections/{demo}/privacy");
    let _: Value = admin
        .put(&conn, json!({"masked_column_patterns": ["email"]}))
        .await;
    let masked: RunResult = admin
        .post(
            &format!("/api/v1/queries/{}/run", emails.id),
            json!({"max_rows": 3}),
        )
        .await;
    assert_eq!(masked.result.masked_columns, ["email"]);
    assert!(
        masked
            .result
            .rows
            .iter()
            .all(|r| !r[0].as_str().unwrap_or("").contains('@')),
        "{:?}",
        masked.result.rows
    );
    let _: Value = admin
        .put(&conn, json!({"excluded_tables": ["customers"]}))
        .await;
    let now_refused = admin
        .fails("POST", &format!("{path}/run"), Some(json!({})))
        .await;
    assert_eq!(
        (now_refused.status, now_refused.code),
        (403, ErrorCode::PolicyViolation),
        "{now_refused:?}"
    );
    let runs: Vec<RunView> = admin.get(&format!("{path}/runs?limit=1")).await;
    assert!(runs[0].error.is_some(), "the refused run is recorded");
    let _: Value = admin.put(&conn, json!({})).await;

    // Viewers read and run, but do not write; other teams see nothing.
    let team = app.setup().team.id;
    let viewer = admin.create_member(team, "vera", TeamRole::Viewer).await;
    let _: SavedQuery = viewer.get(&path).await;
    let _: RunResult = viewer.post(&format!("{path}/run"), json!({})).await;
    for (method, body) in [("PATCH", Some(json!({"name": "mine"}))), ("DELETE", None)] {
        assert_eq!(
            viewer.fails(method, &path, body).await.code,
            ErrorCode::Forbidden
        );
    }
    let e = viewer
        .fails(
            "POST",
            "/api/v1/queries",
            Some(json!({"name": "v", "connection_id": demo, "sql": "SELECT 1"})),
        )
        .await;
    assert_eq!(e.code, ErrorCode::Forbidden);

    let (outsider_user, outsider) = admin.create_user("otto").await;
    let other: TeamView = admin.post("/api/v1/teams", json!({"name": "Other"})).await;
    admin
        .add_member(other.id, outsider_user.id, TeamRole::Owner)
        .await;
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"name": "mine"}))),
        ("DELETE", path.clone(), None),
        ("POST", format!("{path}/run"), Some(json!({}))),
        ("GET", format!("{path}/runs"), None),
    ] {
        assert_eq!(
            outsider.fails(method, &p, body).await.code,
            ErrorCode::NotFound,
            "{method} {p}"
        );
    }
    let theirs: Page<SavedQuery> = outsider.get("/api/v1/queries").await;
    assert!(theirs.items.is_empty());
    let e = outsider
        .fails(
            "POST",
            "/api/v1/queries",
            Some(json!({"name": "x", "message_id": answer.message_id})),
        )
        .await;
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "another team's chat answer is not theirs to save"
    );

    admin.delete(&path).await;
    assert_eq!(
        admin.fails("GET", &path, None).await.code,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_show_live_data_from_one_shared_computation() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id.to_string();
    let count = save(
        &admin,
        &demo,
        "Customers",
        "SELECT COUNT(*) AS n FROM customers",
    )
    .await;
    let by_status = save(
        &admin,
        &demo,
        "Orders by status",
        "SELECT status, COUNT(*) AS orders FROM orders GROUP BY status ORDER BY status",
    )
    .await;
    let products = save(
        &admin,
        &demo,
        "Products",
        "SELECT name, unit_price FROM products",
    )
    .await;

    let created: DashboardView = admin
        .post(
            "/api/v1/dashboards",
            json!({"name": "Sales Overview", "refresh_seconds": 300, "widgets": [
                {"type": "metric", "query_id": count.id, "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
                {"id": "status", "type": "bar", "query_id": by_status.id, "title": "Orders",
                    "position": {"x": 6, "y": 0, "w": 6, "h": 4}, "options": {"color": "teal"}},
                {"type": "table", "query_id": products.id, "position": {"x": 0, "y": 4, "w": 12, "h": 6}}
            ]}),
        )
        .await;
    assert_eq!(created.widgets.len(), 3);
    assert_eq!(created.widgets[0].id, "w1", "ids are generated when absent");
    assert!(created.widgets.iter().all(|w| w.data.is_none()));
    let path = format!("/api/v1/dashboards/{}", created.id);

    // Ten viewers at once: every widget has data, and each query ran once.
    let mut readers = Vec::new();
    for _ in 0..10 {
        let admin = admin.clone();
        let path = path.clone();
        readers.push(tokio::spawn(async move {
            admin.get::<DashboardView>(&path).await
        }));
    }
    for r in readers {
        let d = r.await.unwrap();
        assert_eq!(d.name, "Sales Overview");
        assert!(
            d.widgets
                .iter()
                .all(|w| w.data.is_some() && w.error.is_none()),
            "{d:?}"
        );
    }
    for q in [&count, &by_status, &products] {
        let runs: Vec<RunView> = admin.get(&format!("/api/v1/queries/{}/runs", q.id)).await;
        assert_eq!(runs.len(), 1, "{} ran once for ten readers", q.name);
        assert_eq!(runs[0].run_by, format!("dashboard:{}", created.id));
    }
    let again: DashboardView = admin.get(&path).await;
    assert!(again.widgets.iter().all(|w| w.cached));
    assert_eq!(again.widgets[1].kind, "bar");
    assert_eq!(
        again.widgets[1].data.as_ref().unwrap().columns,
        ["status", "orders"]
    );
    let fresh: DashboardView = admin.get(&format!("{path}?refresh=true")).await;
    assert!(fresh.widgets.iter().all(|w| !w.cached && w.data.is_some()));
    let bare: DashboardView = admin.get(&format!("{path}?data=false")).await;
    assert!(bare.widgets.iter().all(|w| w.data.is_none()));

    // A widget that fails says why, beside the others.
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{demo}/privacy"),
            json!({"excluded_tables": ["products"]}),
        )
        .await;
    let partial: DashboardView = admin.get(&path).await;
    assert!(partial.widgets[0].data.is_some() && partial.widgets[1].data.is_some());
    let err = partial.widgets[2]
        .error
        .as_ref()
        .expect("the products widget fails");
    assert_eq!(err["code"], "policy_violation", "{err}");
    let _: Value = admin
        .put(&format!("/api/v1/connections/{demo}/privacy"), json!({}))
        .await;

    // Layout and widgets change with PATCH; widgets are checked.
    let moved: DashboardView = admin
        .patch(
            &path,
            json!({"layout": [{"id": "status", "position": {"x": 0, "y": 10, "w": 4, "h": 4}}]}),
        )
        .await;
    assert_eq!(moved.widgets[1].position["y"], 10);
    assert_eq!(moved.refresh_seconds, 300);
    for body in [
        json!({"layout": [{"id": "nope", "position": {"x": 0, "y": 0, "w": 1, "h": 1}}]}),
        json!({"widgets": [{"id": "a", "type": "metric", "query_id": count.id}, {"id": "a", "type": "table", "query_id": count.id}]}),
        json!({"widgets": [{"type": "pie", "query_id": demo}]}),
        json!({"widgets": [{"type": "gauge", "query_id": count.id}]}),
        json!({"refresh_seconds": 100000000}),
    ] {
        let e = admin.fails("PATCH", &path, Some(body.clone())).await;
        assert_eq!(
            (e.status, e.code),
            (422, ErrorCode::ValidationError),
            "{body}"
        );
    }
    let one: DashboardView = admin
        .patch(
            &path,
            json!({"widgets": [{"type": "metric", "query_id": count.id}]}),
        )
        .await;
    assert_eq!(one.widgets.len(), 1);

    // Roles and isolation.
    let team = app.setup().team.id;
    let viewer = admin.create_member(team, "vic", TeamRole::Viewer).await;
    let seen: DashboardView = viewer.get(&path).await;
    assert!(seen.widgets[0].data.is_some());
    assert_eq!(
        viewer
            .fails("PATCH", &path, Some(json!({"name": "x"})))
            .await
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        viewer.fails("DELETE", &path, None).await.code,
        ErrorCode::Forbidden
    );
    let (otto_user, otto) = admin.create_user("otto").await;
    let other: TeamView = admin.post("/api/v1/teams", json!({"name": "Other"})).await;
    admin
        .add_member(other.id, otto_user.id, TeamRole::Owner)
        .await;
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"name": "x"}))),
        ("DELETE", None),
    ] {
        assert_eq!(
            otto.fails(method, &path, body).await.code,
            ErrorCode::NotFound
        );
    }
    let listed: Page<Value> = otto.get("/api/v1/dashboards").await;
    assert!(listed.items.is_empty());
    let e = otto
        .fails(
            "POST",
            "/api/v1/dashboards",
            Some(json!({"name": "steal", "team_id": other.id, "widgets": [{"type": "metric", "query_id": count.id}]})),
        )
        .await;
    assert_eq!(e.status, 422, "another team's query is not a widget: {e:?}");

    admin.delete(&path).await;
    assert_eq!(
        admin.fails("GET", &path, None).await.code,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_export_as_csv_json_and_xlsx_with_masks_kept() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id.to_string();
    let q = save(
        &admin,
        &demo,
        "Top customers / 2024",
        "SELECT first_name, email, id FROM customers ORDER BY id LIMIT 3",
    )
    .await;
    let path = format!("/api/v1/queries/{}/export", q.id);

    let csv = admin.send("GET", &format!("{path}?format=csv"), None).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        "attachment; filename=\"Top_customers___2024.csv\""
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "first_name,email,id");
    assert_eq!(lines.len(), 4, "{}", csv.text);
    assert!(lines[1].contains('@'));
    let capped = admin.send("GET", &format!("{path}?max_rows=1"), None).await;
    assert_eq!(
        capped.text.lines().count(),
        2,
        "csv is the default; max_rows applies"
    );

    let json = admin
        .send("GET", &format!("{path}?format=json"), None)
        .await;
    assert_eq!(json.headers["content-type"], "application/json");
    let rows = json.json.as_array().expect("an array of objects");
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["email"].as_str().unwrap().contains('@'));
    assert!(rows[0]["id"].is_i64());

    let xlsx = admin
        .send("GET", &format!("{path}?format=xlsx"), None)
        .await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(
        xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.text.starts_with("PK"), "a zip container");

    // Masks apply to exports as to answers: the run is new, under today's policy.
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{demo}/privacy"),
            json!({"masked_column_patterns": ["email"]}),
        )
        .await;
    let masked = admin.send("GET", &path, None).await;
    assert!(!masked.text.contains('@'), "{}", masked.text);
    let masked_json = admin
        .send("GET", &format!("{path}?format=json"), None)
        .await;
    assert!(!masked_json.text.contains('@'), "{}", masked_json.text);

    // Snapshots: none yet, then the newest one (which was taken masked).
    let none = admin
        .fails("GET", &format!("{path}?source=snapshot"), None)
        .await;
    assert_eq!(none.code, ErrorCode::NotFound);
    let _: RunResult = admin
        .post(
            &format!("/api/v1/queries/{}/run", q.id),
            json!({"snapshot": true, "statistics": true}),
        )
        .await;
    let snap = admin
        .send("GET", &format!("{path}?source=snapshot&format=json"), None)
        .await;
    assert_eq!(snap.json.as_array().map(Vec::len), Some(3), "{}", snap.text);
    assert!(!snap.text.contains('@'));
    let _: Value = admin
        .put(&format!("/api/v1/connections/{demo}/privacy"), json!({}))
        .await;

    // A chat answer exports too; another user's session does not.
    let answer = admin
        .ask(app.demo().id, "how many products are there?")
        .await;
    let m = format!(
        "/api/v1/sessions/{}/messages/{}/export",
        answer.session_id, answer.message_id
    );
    let exported = admin.send("GET", &format!("{m}?format=json"), None).await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert_eq!(exported.json.as_array().map(Vec::len), Some(1));
    let stored = admin
        .send("GET", &format!("{m}?source=snapshot"), None)
        .await;
    assert_eq!(stored.status, 200);
    let team = app.setup().team.id;
    let mate = admin.create_member(team, "mia", TeamRole::Editor).await;
    assert_eq!(mate.fails("GET", &m, None).await.code, ErrorCode::NotFound);
    for bad in ["?format=pdf", "?source=cache", "?max_rows=0"] {
        let e = admin.fails("GET", &format!("{path}{bad}"), None).await;
        assert_eq!(e.status, 422, "{bad}: {e:?}");
    }

    // Chat answers carry statistics when asked (of every row delivered), not otherwise.
    let with_stats = admin
        .chat_raw(
            json!({"connection_id": demo, "message": "list the products",
            "options": {"statistics": true, "max_rows": 500}}),
        )
        .await;
    let stats = &with_stats.json["statistics"];
    let rows = with_stats.json["results"]["row_count"].as_u64().unwrap();
    assert!(rows > 1, "{}", with_stats.text);
    let first = with_stats.json["results"]["columns"][0].as_str().unwrap();
    assert_eq!(
        stats[first]["general"]["count"], rows,
        "{}",
        with_stats.text
    );
    let without = admin
        .chat_raw(json!({"connection_id": demo, "message": "list the products"}))
        .await;
    assert!(without.json.get("statistics").is_none());

    // Statistics and a chart come with a run when asked.
    let ran: Value = admin
        .post(
            &format!("/api/v1/queries/{}/run", q.id),
            json!({"statistics": true}),
        )
        .await;
    assert_eq!(ran["statistics"]["id"]["general"]["count"], 3, "{ran}");
    assert!(
        ran["statistics"]["id"]["numeric"]["max"].is_number(),
        "{ran}"
    );
    assert_eq!(ran["statistics"]["email"]["string"]["distinct_count"], 3);
    assert!(ran["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(ran["chart"]["kind"], "bar", "{}", ran["chart"]);
}
