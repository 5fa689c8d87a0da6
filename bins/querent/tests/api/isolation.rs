//! Team isolation: a member of team A sees nothing of team B (404, as if absent), and roles
//! inside a team are enforced (403).

use querent_test_support::TestApp;
use serde_json::json;

/// A SQLite file the tests may register as a connection (an empty file is a valid, empty
/// SQLite database), in the server's shared SQLite directory: files elsewhere are refused.
pub fn sqlite_target(app: &TestApp) -> String {
    app.sqlite_file()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_one_team_get_404_for_another_teams_resources() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");

    // Team B (the admin's Default team) with a connection and an API client.
    let b_conn = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "b-db", "dialect": "sqlite", "path": sqlite_target(&app)}),
        )
        .await;
    assert_eq!(b_conn.status, 201, "{}", b_conn.text);
    let b_conn = b_conn.str("id");
    let b_team = app.get("/api/v1/auth/me", Some(&admin)).await.json["teams"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_client = app
        .post(
            "/api/v1/api-clients",
            Some(&admin),
            json!({"name": "b-etl", "scopes": ["admin"]}),
        )
        .await
        .str("client_id");

    // Team A with its own owner.
    let (alice_id, alice) = app.create_user(&admin, "alice").await;
    let a_team = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Team A"}))
        .await;
    assert_eq!(a_team.status, 201);
    let a_team = a_team.str("id");
    let added = app
        .post(
            &format!("/api/v1/teams/{a_team}/members/{alice_id}"),
            Some(&admin),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    let a_conn = app
        .post(
            "/api/v1/connections",
            Some(&alice),
            json!({"name": "a-db", "dialect": "sqlite", "path": sqlite_target(&app), "team_id": a_team}),
        )
        .await;
    assert_eq!(a_conn.status, 201, "{}", a_conn.text);

    // Lists show only team A.
    let list = app.get("/api/v1/connections", Some(&alice)).await;
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["a-db"]);
    let teams = app.get("/api/v1/teams", Some(&alice)).await;
    assert_eq!(teams.json["items"].as_array().unwrap().len(), 1);
    assert!(
        app.get("/api/v1/api-clients", Some(&alice))
            .await
            .json
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Every team-B resource is 404 for alice.
    let c = format!("/api/v1/connections/{b_conn}");
    let attempts: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", c.clone(), None),
        ("PATCH", c.clone(), Some(json!({"description": "mine now"}))),
        ("DELETE", c.clone(), None),
        ("POST", format!("{c}/test"), None),
        (
            "PUT",
            format!("{c}/execution-mode"),
            Some(json!({"mode": "generate_only"})),
        ),
        (
            "PUT",
            format!("{c}/privacy"),
            Some(json!({"excluded_tables": []})),
        ),
        (
            "PUT",
            format!("{c}/config"),
            Some(json!({"statement_timeout_ms": 1000, "max_rows": 10})),
        ),
        ("GET", format!("/api/v1/teams/{b_team}"), None),
        ("DELETE", format!("/api/v1/teams/{b_team}"), None),
        (
            "POST",
            format!("/api/v1/teams/{b_team}/members/{alice_id}"),
            Some(json!({"role": "owner"})),
        ),
        ("DELETE", format!("/api/v1/api-clients/{b_client}"), None),
    ];
    for (method, path, body) in attempts {
        let r = app.request(method, &path, Some(&alice), body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, "not_found"),
            "{method} {path}: {}",
            r.text
        );
    }
    // Creating in another team is refused the same way.
    let r = app
        .post("/api/v1/connections", Some(&alice), json!({"name": "sneaky", "dialect": "sqlite", "path": sqlite_target(&app), "team_id": b_team}))
        .await;
    assert_eq!(r.status, 404);
    // Nothing of team B changed.
    let still = app.get(&c, Some(&admin)).await;
    assert_eq!(
        (still.status, still.json["execution_mode"].as_str()),
        (200, Some("auto_execute"))
    );
    assert!(still.json["description"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_but_cannot_manage_connections() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let team = app.get("/api/v1/auth/me", Some(&admin)).await.json["teams"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conn = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "shared", "dialect": "sqlite", "path": sqlite_target(&app)}),
        )
        .await
        .str("id");
    let (vid, viewer) = app.create_user(&admin, "victor").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/teams/{team}/members/{vid}"),
            Some(&admin),
            json!({"role": "viewer"})
        )
        .await
        .status,
        200
    );

    assert_eq!(
        app.get(&format!("/api/v1/connections/{conn}"), Some(&viewer))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/connections", Some(&viewer)).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let create = app
        .post(
            "/api/v1/connections",
            Some(&viewer),
            json!({"name": "v", "dialect": "sqlite", "path": sqlite_target(&app)}),
        )
        .await;
    assert_eq!(
        (create.status, create.code().as_str()),
        (403, "forbidden"),
        "{}",
        create.text
    );
    for (method, path, body) in [
        ("DELETE", format!("/api/v1/connections/{conn}"), None),
        (
            "PATCH",
            format!("/api/v1/connections/{conn}"),
            Some(json!({"name": "renamed"})),
        ),
        (
            "PUT",
            format!("/api/v1/connections/{conn}/execution-mode"),
            Some(json!({"mode": "auto_execute"})),
        ),
        (
            "POST",
            format!("/api/v1/teams/{team}/members/{vid}"),
            Some(json!({"role": "owner"})),
        ),
        (
            "POST",
            "/api/v1/api-clients".to_owned(),
            Some(json!({"name": "x", "scopes": ["admin"]})),
        ),
    ] {
        let r = app.request(method, &path, Some(&viewer), body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
    }
    // Viewers read the schema but do not refresh it.
    assert_eq!(
        app.get(&format!("/api/v1/connections/{conn}/schema"), Some(&viewer))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/connections/{conn}/schema/refresh"),
            Some(&viewer),
            json!({})
        )
        .await
        .status,
        403
    );
    // Not a server admin either.
    assert_eq!(app.get("/api/v1/users", Some(&viewer)).await.status, 403);
    assert_eq!(
        app.patch(
            "/api/v1/settings",
            Some(&viewer),
            json!({"log_level": "debug"})
        )
        .await
        .status,
        403
    );
    // Promoted to editor: still not a connection manager; to admin: allowed.
    assert_eq!(
        app.post(
            &format!("/api/v1/teams/{team}/members/{vid}"),
            Some(&admin),
            json!({"role": "admin"})
        )
        .await
        .status,
        200
    );
    let renamed = app
        .patch(
            &format!("/api/v1/connections/{conn}"),
            Some(&viewer),
            json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(
        (renamed.status, renamed.json["name"].as_str()),
        (200, Some("renamed"))
    );
}
