//! Seed 003 ("AI for Database") compatibility layer at `/compat/aifordb/v1`: every example
//! of the seed replayed against the real server with the demo database, API keys as bearer
//! credentials with their scopes, every documented error code with its status, and the
//! isolation of every route between teams.

use querent_test_support::views::{ApiClientCreated, TeamView};
use querent_test_support::{Client, Response, TestApp};
use serde_json::{Value, json};

const V1: &str = "/compat/aifordb/v1";

/// A request to the layer.
async fn call(c: &Client, method: &str, path: &str, body: Option<Value>) -> Response {
    c.send(method, &format!("{V1}{path}"), body).await
}

/// Expects `status` and returns `data`.
fn data(r: &Response, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    r.json["data"].clone()
}

/// Expects the seed's error `code` with `status`, in its exact shape.
fn error(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["error"]["code"], code, "{}", r.text);
    assert!(r.json["error"]["message"].is_string(), "{}", r.text);
    assert_eq!(
        r.json.as_object().unwrap().len(),
        1,
        "only `error`: {}",
        r.text
    );
}

/// An API key of `team` (the admin's first team when `None`) with `scopes`.
async fn key(app: &TestApp, team: Option<&str>, scopes: &[&str]) -> Client {
    let mut body = json!({"name": format!("key {scopes:?}"), "scopes": scopes});
    if let Some(t) = team {
        body["team_id"] = json!(t);
    }
    let created: ApiClientCreated = app.admin().post("/api/v1/api-clients", body).await;
    app.client(created.api_key)
}

/// `POST /queries` with the seed's body on the demo connection.
async fn run_query(c: &Client, connection: &str, question: &str) -> Response {
    call(
        c,
        "POST",
        "/queries",
        Some(json!({"question": question, "connection_id": connection, "format": "table"})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_queries_and_errors() {
    let app = TestApp::builder().with_demo().spawn().await;
    let demo = app.demo().id.to_string();
    let write = key(&app, None, &["query:write"]).await;
    let read = key(&app, None, &["query:read"]).await;

    // Run a query: the documented answer, saved as a query.
    let r = run_query(&write, &demo, "how many orders are there?").await;
    let d = data(&r, 201);
    let qid = d["query_id"].as_str().unwrap().to_owned();
    assert!(d["sql"].as_str().unwrap().to_lowercase().contains("select"));
    assert_eq!(d["results"]["columns"].as_array().unwrap().len(), 1);
    assert!(d["results"]["rows"][0][0].is_number(), "{d}");
    assert_eq!(d["results"]["row_count"], 1);
    assert!(d["execution_time_ms"].is_u64());
    // The seed's own question, verbatim.
    let seed = run_query(&write, &demo, "How many users signed up this week?").await;
    assert!(
        seed.status == 201 || seed.json["error"]["code"] == "query_error",
        "{}",
        seed.text
    );

    // Saved queries with limit + cursor.
    let second = data(
        &run_query(&write, &demo, "how many products are there?").await,
        201,
    );
    let first_page = call(&read, "GET", "/queries?limit=1", None).await;
    let items = data(&first_page, 200);
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["query_id"], qid.as_str());
    assert_eq!(first_page.json["has_more"], true);
    let cursor = first_page.json["next_cursor"].as_str().unwrap().to_owned();
    let rest = call(
        &read,
        "GET",
        &format!("/queries?limit=20&cursor={cursor}"),
        None,
    )
    .await;
    let rest_items = data(&rest, 200);
    assert!(
        rest_items
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["query_id"] == second["query_id"])
    );
    let got = data(
        &call(&read, "GET", &format!("/queries/{qid}"), None).await,
        200,
    );
    assert_eq!(
        (got["query_id"].as_str(), got["sql"].clone()),
        (Some(qid.as_str()), d["sql"].clone())
    );
    assert_eq!(got["question"], "how many orders are there?");

    // Errors, each documented code with its status.
    error(
        &call(&app.anonymous(), "GET", "/queries", None).await,
        401,
        "authentication_error",
    );
    error(
        &call(&app.client("qk_nope"), "GET", "/queries", None).await,
        401,
        "authentication_error",
    );
    error(
        &run_query(&read, &demo, "how many orders are there?").await,
        403,
        "authorization_error",
    );
    error(
        &call(&read, "GET", "/queries/q_xyz789", None).await,
        404,
        "not_found",
    );
    let unknown = uuid::Uuid::now_v7();
    error(
        &call(&read, "GET", &format!("/queries/{unknown}"), None).await,
        404,
        "not_found",
    );
    error(
        &call(&read, "GET", "/no/such/thing", None).await,
        404,
        "not_found",
    );
    error(
        &call(&read, "PUT", "/queries", None).await,
        404,
        "not_found",
    );
    error(
        &run_query(&write, "conn_abc123", "how many orders?").await,
        404,
        "not_found",
    );
    error(
        &call(&read, "GET", "/queries?limit=abc", None).await,
        422,
        "validation_error",
    );
    error(
        &call(&read, "GET", "/queries?limit=0", None).await,
        422,
        "validation_error",
    );
    error(
        &call(&write, "POST", "/queries", Some(json!({"question": "x"}))).await,
        422,
        "validation_error",
    );
    let raw = write
        .send_raw("POST", &format!("{V1}/queries"), "{not json")
        .await;
    error(&raw, 422, "validation_error");
    let fmt = call(
        &write,
        "POST",
        "/queries",
        Some(json!({"question": "how many orders?", "connection_id": demo, "format": "pdf"})),
    )
    .await;
    error(&fmt, 422, "validation_error");
    error(
        &run_query(&write, &demo, "colourless green ideas sleep furiously").await,
        500,
        "query_error",
    );

    // Delete.
    let del = call(&write, "DELETE", &format!("/queries/{qid}"), None).await;
    assert_eq!(del.status, 204, "{}", del.text);
    error(
        &call(&read, "GET", &format!("/queries/{qid}"), None).await,
        404,
        "not_found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_dashboards_and_workflows() {
    let app = TestApp::builder().with_demo().spawn().await;
    let demo = app.demo().id.to_string();
    let write = key(&app, None, &["query:write"]).await;
    let read = key(&app, None, &["query:read"]).await;
    let q = data(
        &run_query(&write, &demo, "how many orders are there?").await,
        201,
    );
    let qid = q["query_id"].as_str().unwrap();

    // The seed's dashboard body, with a real query id.
    let body = json!({
        "name": "Sales Overview",
        "description": "Daily sales metrics",
        "widgets": [{"type": "metric", "query_id": qid, "position": {"x": 0, "y": 0, "w": 6, "h": 4}}]
    });
    let d = data(&call(&write, "POST", "/dashboards", Some(body)).await, 201);
    let did = d["id"].as_str().unwrap().to_owned();
    assert_eq!(d["widgets"][0]["type"], "metric");
    let listed = data(&call(&read, "GET", "/dashboards", None).await, 200);
    assert_eq!(listed[0]["id"], did.as_str());
    let got = data(
        &call(&read, "GET", &format!("/dashboards/{did}"), None).await,
        200,
    );
    assert_eq!(
        got["widgets"][0]["position"],
        json!({"x": 0, "y": 0, "w": 6, "h": 4})
    );
    assert!(
        got["widgets"][0]["data"]["rows"][0][0].is_number(),
        "current data: {got}"
    );
    let patched = call(
        &write,
        "PATCH",
        &format!("/dashboards/{did}"),
        Some(json!({"name": "Sales"})),
    )
    .await;
    assert_eq!(data(&patched, 200)["name"], "Sales");
    error(
        &call(
            &read,
            "PATCH",
            &format!("/dashboards/{did}"),
            Some(json!({"name": "x"})),
        )
        .await,
        403,
        "authorization_error",
    );
    error(
        &call(
            &write,
            "POST",
            "/dashboards",
            Some(json!({"name": "x", "colour": "red"})),
        )
        .await,
        422,
        "validation_error",
    );
    assert_eq!(
        call(&write, "DELETE", &format!("/dashboards/{did}"), None)
            .await
            .status,
        204
    );
    error(
        &call(&read, "GET", &format!("/dashboards/{did}"), None).await,
        404,
        "not_found",
    );

    // Workflows: create, list, get, run by hand, run history.
    let wf = json!({"name": "Orders check", "steps": [{"type": "run_query", "query_id": qid}]});
    let w = data(&call(&write, "POST", "/workflows", Some(wf)).await, 201);
    let wid = w["id"].as_str().unwrap().to_owned();
    assert_eq!(
        data(&call(&read, "GET", "/workflows", None).await, 200)[0]["id"],
        wid.as_str()
    );
    assert_eq!(
        data(
            &call(&read, "GET", &format!("/workflows/{wid}"), None).await,
            200
        )["name"],
        "Orders check"
    );
    error(
        &call(&read, "POST", &format!("/workflows/{wid}/run"), None).await,
        403,
        "authorization_error",
    );
    let run = data(
        &call(&write, "POST", &format!("/workflows/{wid}/run"), None).await,
        202,
    );
    let mut runs = Value::Null;
    for _ in 0..100 {
        runs = data(
            &call(&read, "GET", &format!("/workflows/{wid}/runs"), None).await,
            200,
        );
        if runs[0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (runs[0]["id"].clone(), runs[0]["status"].clone()),
        (run["id"].clone(), json!("succeeded")),
        "{runs}"
    );
    assert_eq!(
        call(&write, "DELETE", &format!("/workflows/{wid}"), None)
            .await
            .status,
        204
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_connections_and_team() {
    let app = TestApp::builder().with_demo().spawn().await;
    let demo = app.demo().id.to_string();
    let admin = key(&app, None, &["admin"]).await;
    let read = key(&app, None, &["query:read"]).await;

    // Connections: the seed's body as written (an unreachable host), list, test, delete.
    let body = json!({
        "type": "postgresql", "name": "Production DB", "host": "db.example.invalid", "port": 5432,
        "database": "production", "username": "aifordb_reader", "password": "encrypted-password",
        "ssl_mode": "require"
    });
    error(
        &call(&read, "POST", "/connections", Some(body.clone())).await,
        403,
        "authorization_error",
    );
    let c = data(&call(&admin, "POST", "/connections", Some(body)).await, 201);
    let cid = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (c["type"].as_str(), c["port"].as_u64()),
        (Some("postgresql"), Some(5432))
    );
    assert!(c.get("password").is_none());
    let listed = data(&call(&read, "GET", "/connections", None).await, 200);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == cid.as_str())
    );
    error(
        &call(&admin, "POST", &format!("/connections/{cid}/test"), None).await,
        502,
        "connection_error",
    );
    let ok = data(
        &call(&read, "POST", &format!("/connections/{demo}/test"), None).await,
        200,
    );
    assert_eq!(ok["success"], true);
    error(
        &call(
            &admin,
            "POST",
            "/connections",
            Some(json!({"type": "oracle", "name": "x"})),
        )
        .await,
        422,
        "validation_error",
    );
    assert_eq!(
        call(&admin, "DELETE", &format!("/connections/{cid}"), None)
            .await
            .status,
        204
    );

    // Team: list, invite (a read-only key may not), change the role, accept, remove.
    let members = data(&call(&read, "GET", "/team/members", None).await, 200);
    assert_eq!(members[0]["status"], "active");
    assert_eq!(members[0]["role"], "owner");
    let invite = json!({"email": "new.member@company.com", "role": "editor"});
    error(
        &call(&read, "POST", "/team/members", Some(invite.clone())).await,
        403,
        "authorization_error",
    );
    let inv = data(
        &call(&admin, "POST", "/team/members", Some(invite)).await,
        201,
    );
    assert_eq!(
        (inv["status"].as_str(), inv["role"].as_str()),
        (Some("invited"), Some("editor"))
    );
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    let token = inv["invitation_token"].as_str().unwrap().to_owned();
    let listed = data(&call(&read, "GET", "/team/members", None).await, 200);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == inv_id.as_str())
    );
    assert!(!listed.to_string().contains(&token));
    let re = call(
        &admin,
        "PATCH",
        &format!("/team/members/{inv_id}"),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(data(&re, 200)["role"], "viewer");
    let accepted = app
        .anonymous()
        .send(
            "POST",
            "/api/v1/invitations/accept",
            Some(json!({"token": token, "username": "newbie", "password": "newbie-password-1"})),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    let user_id = accepted.json["user"]["id"].as_str().unwrap().to_owned();
    let members = data(&call(&read, "GET", "/team/members", None).await, 200);
    let newbie = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == user_id.as_str())
        .unwrap();
    assert_eq!(
        (
            newbie["status"].as_str(),
            newbie["role"].as_str(),
            newbie["email"].as_str()
        ),
        (
            Some("active"),
            Some("viewer"),
            Some("new.member@company.com")
        )
    );
    error(
        &call(
            &read,
            "PATCH",
            &format!("/team/members/{user_id}"),
            Some(json!({"role": "editor"})),
        )
        .await,
        403,
        "authorization_error",
    );
    let promoted = call(
        &admin,
        "PATCH",
        &format!("/team/members/{user_id}"),
        Some(json!({"role": "editor"})),
    )
    .await;
    assert_eq!(data(&promoted, 200)["role"], "editor");
    error(
        &call(
            &admin,
            "PATCH",
            &format!("/team/members/{user_id}"),
            Some(json!({"role": "chief"})),
        )
        .await,
        422,
        "validation_error",
    );
    assert_eq!(
        call(&admin, "DELETE", &format!("/team/members/{user_id}"), None)
            .await
            .status,
        204
    );
    error(
        &call(&admin, "DELETE", &format!("/team/members/{user_id}"), None).await,
        404,
        "not_found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_routes_are_isolated_between_teams() {
    let app = TestApp::builder().with_demo().spawn().await;
    let demo = app.demo().id.to_string();
    let mine = key(&app, None, &["admin"]).await;
    let q = data(
        &run_query(&mine, &demo, "how many orders are there?").await,
        201,
    );
    let qid = q["query_id"].as_str().unwrap().to_owned();
    let d = data(
        &call(
            &mine,
            "POST",
            "/dashboards",
            Some(json!({"name": "d", "widgets": [{"type": "metric", "query_id": qid}]})),
        )
        .await,
        201,
    );
    let did = d["id"].as_str().unwrap().to_owned();
    let w = data(
        &call(
            &mine,
            "POST",
            "/workflows",
            Some(json!({"name": "w", "steps": [{"type": "run_query", "query_id": qid}]})),
        )
        .await,
        201,
    );
    let wid = w["id"].as_str().unwrap().to_owned();
    let inv = data(
        &call(
            &mine,
            "POST",
            "/team/members",
            Some(json!({"email": "a@b.com", "role": "viewer"})),
        )
        .await,
        201,
    );
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    // A member of this team only (the server admin owns the other team too).
    let (mia, _) = app.admin().create_user("mia").await;
    app.admin()
        .add_member(
            app.setup().team.id,
            mia.id,
            querent_domain::TeamRole::Viewer,
        )
        .await;
    let owner_id = mia.id.to_string();

    let other_team: TeamView = app
        .admin()
        .post("/api/v1/teams", json!({"name": "others"}))
        .await;
    let theirs = key(&app, Some(&other_team.id.to_string()), &["admin"]).await;
    for (method, path, body) in [
        ("GET", format!("/queries/{qid}"), None),
        ("DELETE", format!("/queries/{qid}"), None),
        (
            "POST",
            "/queries".to_owned(),
            Some(json!({"question": "how many orders are there?", "connection_id": demo})),
        ),
        ("GET", format!("/dashboards/{did}"), None),
        (
            "PATCH",
            format!("/dashboards/{did}"),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/dashboards/{did}"), None),
        ("GET", format!("/workflows/{wid}"), None),
        (
            "PATCH",
            format!("/workflows/{wid}"),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/workflows/{wid}"), None),
        ("POST", format!("/workflows/{wid}/run"), None),
        ("GET", format!("/workflows/{wid}/runs"), None),
        ("POST", format!("/connections/{demo}/test"), None),
        ("DELETE", format!("/connections/{demo}"), None),
        (
            "PATCH",
            format!("/team/members/{owner_id}"),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", format!("/team/members/{owner_id}"), None),
        (
            "PATCH",
            format!("/team/members/{inv_id}"),
            Some(json!({"role": "admin"})),
        ),
        ("DELETE", format!("/team/members/{inv_id}"), None),
    ] {
        let r = call(&theirs, method, &path, body).await;
        assert_eq!(
            (r.status, r.json["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}: {}",
            r.text
        );
    }
    for list in [
        "/queries",
        "/dashboards",
        "/workflows",
        "/connections",
        "/team/members",
    ] {
        let items = data(&call(&theirs, "GET", list, None).await, 200);
        let text = items.to_string();
        for id in [&qid, &did, &wid, &demo, &owner_id, &inv_id] {
            assert!(!text.contains(id.as_str()), "{list} shows {id}: {text}");
        }
    }
    // Still there for their own team.
    assert_eq!(
        call(&mine, "GET", &format!("/queries/{qid}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&mine, "GET", &format!("/dashboards/{did}"), None)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_rate_limit_exceeded() {
    let app = TestApp::builder().with_admin().spawn().await;
    let _: Value = app
        .admin()
        .patch("/api/v1/settings", json!({"rate_limit_per_minute": 3}))
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let read = key(&app, None, &["query:read"]).await;
    let mut limited = None;
    for _ in 0..10 {
        let r = call(&read, "GET", "/queries", None).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("no request was rate limited");
    error(&limited, 429, "rate_limit_exceeded");
    assert!(limited.headers.get("retry-after").is_some());
}
