//! Team isolation: a member of team A sees nothing of team B (404, as if absent), and roles
//! inside a team are enforced (403).

use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ErrorCode, ExecutionMode, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::views::{
    ApiClientCreated, ApiClientView, ConnectionView, Page, TeamView, UserView,
};
use serde_json::{Value, json};

/// A SQLite file the tests may register as a connection (an empty file is a valid, empty
/// SQLite database), in the server's shared SQLite directory: files elsewhere are refused.
pub fn sqlite_target(app: &TestApp) -> String {
    app.sqlite_file()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_one_team_get_404_for_another_teams_resources() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();

    // Team B (the admin's Default team) with a connection and an API client.
    let b_conn = admin.add_sqlite("b-db", &sqlite_target(&app)).await.id;
    let b_team = app.setup().team.id;
    let b_client: ApiClientCreated = admin
        .post(
            "/api/v1/api-clients",
            json!({"name": "b-etl", "scopes": ["admin"]}),
        )
        .await;
    let b_client = b_client.client.client_id;

    // Team A with its own owner.
    let (alice_user, alice) = admin.create_user("alice").await;
    let alice_id = alice_user.id;
    let a_team: TeamView = admin.post("/api/v1/teams", json!({"name": "Team A"})).await;
    let a_team = a_team.id;
    admin.add_member(a_team, alice_id, TeamRole::Owner).await;
    alice
        .create_connection(
            json!({"name": "a-db", "dialect": "sqlite", "path": sqlite_target(&app), "team_id": a_team}),
        )
        .await;

    // Lists show only team A.
    let names: Vec<String> = alice
        .connections()
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["a-db"]);
    let teams: Page<TeamView> = alice.get("/api/v1/teams").await;
    assert_eq!(teams.items.len(), 1);
    let clients: Vec<ApiClientView> = alice.get("/api/v1/api-clients").await;
    assert!(clients.is_empty());

    // Every team-B resource is 404 for alice.
    let c = format!("/api/v1/connections/{b_conn}");
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
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
        let e = alice.fails(method, &path, body).await;
        assert_eq!(
            (e.status, e.code),
            (404, ErrorCode::NotFound),
            "{method} {path}: {e:?}"
        );
    }
    // Creating in another team is refused the same way.
    let e = alice
        .fails(
            "POST",
            "/api/v1/connections",
            Some(
                json!({"name": "sneaky", "dialect": "sqlite", "path": sqlite_target(&app), "team_id": b_team}),
            ),
        )
        .await;
    assert_eq!(e.status, 404);
    // Nothing of team B changed.
    let still: ConnectionView = admin.get(&c).await;
    assert_eq!(still.execution_mode, ExecutionMode::AutoExecute);
    assert_eq!(still.description, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_but_cannot_manage_connections() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let team = app.setup().team.id;
    let conn = admin.add_sqlite("shared", &sqlite_target(&app)).await.id;
    let (victor, viewer): (UserView, _) = admin.create_user("victor").await;
    admin.add_member(team, victor.id, TeamRole::Viewer).await;

    let _: ConnectionView = viewer.get(&format!("/api/v1/connections/{conn}")).await;
    assert_eq!(viewer.connections().await.len(), 1);
    let create = viewer
        .fails(
            "POST",
            "/api/v1/connections",
            Some(json!({"name": "v", "dialect": "sqlite", "path": sqlite_target(&app)})),
        )
        .await;
    assert_eq!(
        (create.status, create.code),
        (403, ErrorCode::Forbidden),
        "{create:?}"
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
            format!("/api/v1/teams/{team}/members/{}", victor.id),
            Some(json!({"role": "owner"})),
        ),
        (
            "POST",
            "/api/v1/api-clients".to_owned(),
            Some(json!({"name": "x", "scopes": ["admin"]})),
        ),
    ] {
        let e = viewer.fails(method, &path, body).await;
        assert_eq!(e.status, 403, "{method} {path}: {e:?}");
    }
    // Viewers read the schema but do not refresh it.
    let _: SchemaSnapshot = viewer
        .get(&format!("/api/v1/connections/{conn}/schema"))
        .await;
    let e = viewer
        .fails(
            "POST",
            &format!("/api/v1/connections/{conn}/schema/refresh"),
            Some(json!({})),
        )
        .await;
    assert_eq!(e.status, 403);
    // Not a server admin either.
    assert_eq!(viewer.fails("GET", "/api/v1/users", None).await.status, 403);
    let e = viewer
        .fails(
            "PATCH",
            "/api/v1/settings",
            Some(json!({"log_level": "debug"})),
        )
        .await;
    assert_eq!(e.status, 403);
    // Promoted to team admin: allowed to manage the connection.
    admin.add_member(team, victor.id, TeamRole::Admin).await;
    let renamed: ConnectionView = viewer
        .patch(
            &format!("/api/v1/connections/{conn}"),
            json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(renamed.name, "renamed");
}
