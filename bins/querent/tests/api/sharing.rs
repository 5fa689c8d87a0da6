//! Connections shared by several teams (design §2 `connection_teams`): the owning team's
//! admin shares; members of a sharing team use it with their own team's role, their
//! sessions stay in their team, and they cannot manage it; unsharing and strangers get 404.

use querent_domain::TeamRole;
use querent_test_support::TestApp;
use querent_test_support::views::TeamView;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_connection_is_used_by_the_other_team_and_managed_by_its_owner() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id;
    let owner_team = app.setup().team.id;

    // Team B with bob (editor), team C with carol (admin of C).
    let b: TeamView = admin.post("/api/v1/teams", json!({"name": "Team B"})).await;
    let c: TeamView = admin.post("/api/v1/teams", json!({"name": "Team C"})).await;
    let (bob_user, bob) = admin.create_user("bob").await;
    let (carol_user, carol) = admin.create_user("carol").await;
    admin.add_member(b.id, bob_user.id, TeamRole::Editor).await;
    admin.add_member(c.id, carol_user.id, TeamRole::Admin).await;
    let conn = format!("/api/v1/connections/{demo}");

    // Before sharing: bob sees nothing.
    assert_eq!(bob.send("GET", &conn, None).await.status, 404);

    // Shared with B by the owning team's admin.
    let shared: Value = admin
        .put(&format!("{conn}/teams"), json!({"team_ids": [b.id]}))
        .await;
    assert_eq!(shared["owner_team_id"], json!(owner_team));
    assert_eq!(shared["shared_with_teams"][0]["team_id"], json!(b.id));
    assert_eq!(shared["shared_with_teams"][0]["name"], json!("Team B"));
    let listed: Value = admin.get(&format!("{conn}/teams")).await;
    assert_eq!(listed, shared);

    // Bob lists it, reads it and chats on it; his session is in team B.
    let names: Vec<String> = bob
        .connections()
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["demo"]);
    assert_eq!(bob.send("GET", &conn, None).await.status, 200);
    let answer = bob.ask(demo, "How many employees are there?").await;
    assert_eq!(answer.status.to_string(), "executed", "{answer:?}");
    let teams = app
        .store_strings(&format!(
            "SELECT team_id FROM chat_sessions WHERE id = '{}'",
            answer.session_id
        ))
        .await;
    assert_eq!(teams, vec![Some(b.id.to_string())]);
    // The owner's admin does not see bob's session, nor its message.
    let r = admin
        .send(
            "GET",
            &format!("/api/v1/sessions/{}", answer.session_id),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);

    // Bob cannot manage it: privacy, mode, sharing, deletion are 403.
    for (method, path, body) in [
        ("PUT", format!("{conn}/privacy"), Some(json!({}))),
        (
            "PUT",
            format!("{conn}/execution-mode"),
            Some(json!({"mode": "generate_only"})),
        ),
        (
            "PUT",
            format!("{conn}/teams"),
            Some(json!({"team_ids": []})),
        ),
        ("GET", format!("{conn}/teams"), None),
        ("DELETE", conn.clone(), None),
    ] {
        let r = bob.send(method, &path, body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
    }

    // Carol (a third team) always gets 404.
    assert_eq!(carol.send("GET", &conn, None).await.status, 404);
    assert_eq!(
        carol
            .send("GET", &format!("{conn}/teams"), None)
            .await
            .status,
        404
    );
    let r = carol
        .send(
            "PUT",
            &format!("{conn}/teams"),
            Some(json!({"team_ids": [c.id]})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let names: Vec<String> = carol
        .connections()
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(names.is_empty());

    // Unknown teams and the owning team are refused.
    let r = admin
        .send(
            "PUT",
            &format!("{conn}/teams"),
            Some(json!({"team_ids": [querent_domain::TeamId::new()]})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = admin
        .send(
            "PUT",
            &format!("{conn}/teams"),
            Some(json!({"team_ids": [owner_team]})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);

    // Unshared: bob is back to 404, his old session too.
    let none: Value = admin
        .put(&format!("{conn}/teams"), json!({"team_ids": []}))
        .await;
    assert_eq!(none["shared_with_teams"], json!([]));
    assert_eq!(bob.send("GET", &conn, None).await.status, 404);
    let r = bob
        .send(
            "POST",
            "/api/v1/chat",
            Some(json!({"connection_id": demo, "message": "How many employees are there?"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(bob.connections().await.is_empty());
}
