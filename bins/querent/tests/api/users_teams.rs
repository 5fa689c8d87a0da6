//! User administration and team membership rules (typed client).

use querent_domain::{ErrorCode, Role, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::views::{Me, Page, TeamDetail, TeamView, UserView};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_the_last_admin_is_protected() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let admin_id = app.setup().user.id;

    let (bob_user, bob) = admin.create_user("bob").await;
    let bob_id = bob_user.id;
    assert_eq!(bob_user.role, Role::Member);
    let dup = admin
        .fails(
            "POST",
            "/api/v1/users",
            Some(json!({"username": "bob", "password": "another-pass"})),
        )
        .await;
    assert_eq!((dup.status, dup.code), (409, ErrorCode::Conflict));
    assert_eq!(bob.fails("GET", "/api/v1/users", None).await.status, 403);
    let me: UserView = bob.get(&format!("/api/v1/users/{bob_id}")).await;
    assert_eq!(me.username, "bob", "users see themselves");

    let page: Page<UserView> = admin.get("/api/v1/users?limit=1").await;
    assert_eq!(page.items.len(), 1);
    let cursor = page.next_cursor.expect("a second page");
    let next: Page<UserView> = admin
        .get(&format!("/api/v1/users?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next.items[0].username, "bob");
    assert_eq!(next.next_cursor, None);
    let e = admin.fails("GET", "/api/v1/users?limit=0", None).await;
    assert_eq!(e.status, 422);

    let user = format!("/api/v1/users/{admin_id}");
    let demote = admin
        .fails("PATCH", &user, Some(json!({"role": "member"})))
        .await;
    assert_eq!(demote.status, 409, "last admin: {demote:?}");
    assert_eq!(admin.fails("DELETE", &user, None).await.status, 409);

    let bob_path = format!("/api/v1/users/{bob_id}");
    let disabled: UserView = admin.patch(&bob_path, json!({"disabled": true})).await;
    assert!(disabled.disabled);
    assert_eq!(
        bob.fails("GET", "/api/v1/auth/me", None).await.status,
        403,
        "disabled accounts stop at once"
    );
    assert_eq!(app.login("bob", "bob-password-1").await.error().status, 403);
    admin.delete(&bob_path).await;
    assert_eq!(
        admin.fails("GET", &bob_path, None).await.code,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_keep_an_owner_and_only_owners_grant_ownership() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let team: TeamView = admin
        .post("/api/v1/teams", json!({"name": "Analytics"}))
        .await;
    let team = team.id;
    let again = admin
        .fails("POST", "/api/v1/teams", Some(json!({"name": "Analytics"})))
        .await;
    assert_eq!(again.status, 409);
    let (carol_user, carol) = admin.create_user("carol").await;
    let (dave, _) = admin.create_user("dave").await;
    let member = |user| format!("/api/v1/teams/{team}/members/{user}");
    let _: Value = admin
        .post(&member(carol_user.id), json!({"role": TeamRole::Admin}))
        .await;
    // A team admin manages members but cannot create owners.
    let _: Value = carol
        .post(&member(dave.id), json!({"role": TeamRole::Editor}))
        .await;
    let e = carol
        .fails("POST", &member(dave.id), Some(json!({"role": "owner"})))
        .await;
    assert_eq!(e.status, 403);
    let detail: TeamDetail = carol.get(&format!("/api/v1/teams/{team}")).await;
    assert_eq!(detail.members.len(), 3, "{detail:?}");
    assert_eq!(
        detail
            .members
            .iter()
            .find(|m| m.user_id == dave.id)
            .map(|m| m.role),
        Some(TeamRole::Editor)
    );
    // The admin (owner, as creator) cannot leave the team ownerless.
    let me: Me = admin.get("/api/v1/auth/me").await;
    let admin_id = me.user.expect("a user").id;
    let e = admin
        .fails("POST", &member(admin_id), Some(json!({"role": "viewer"})))
        .await;
    assert_eq!(e.status, 409, "{e:?}");
    assert_eq!(
        admin.fails("DELETE", &member(admin_id), None).await.status,
        409
    );
    carol.delete(&member(dave.id)).await;
    let team_path = format!("/api/v1/teams/{team}");
    assert_eq!(
        carol.fails("DELETE", &team_path, None).await.status,
        403,
        "only owners delete teams"
    );
    admin.delete(&team_path).await;
}
