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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_become_users_and_members_when_accepted() {
    let app = TestApp::builder().with_admin().spawn().await;
    let (admin, anon) = (app.admin(), app.anonymous());
    let team = app.setup().team.id;
    let path = format!("/api/v1/teams/{team}/invitations");

    let created = admin
        .send(
            "POST",
            &path,
            Some(json!({"email": "New.Member@Company.com", "role": "editor"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let (inv, token) = (&created.json["id"], created.json["token"].as_str().unwrap());
    assert_eq!(created.json["email"], "new.member@company.com");
    assert_eq!(created.json["status"], "pending");
    let dup = admin
        .fails(
            "POST",
            &path,
            Some(json!({"email": "new.member@company.com", "role": "viewer"})),
        )
        .await;
    assert_eq!((dup.status, dup.code), (409, ErrorCode::Conflict));
    let bad = admin
        .fails(
            "POST",
            &path,
            Some(json!({"email": "nope", "role": "editor"})),
        )
        .await;
    assert_eq!(bad.status, 422);

    let listed = admin.send("GET", &path, None).await;
    assert!(!listed.text.contains(token), "the token is shown once");
    assert_eq!(listed.json[0]["id"], *inv);
    let re: Value = admin
        .patch(
            &format!("{path}/{}", inv.as_str().unwrap()),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(re["role"], "viewer");

    // A viewer of the team cannot invite; another team cannot see the invitations.
    let viewer = admin.create_member(team, "vera", TeamRole::Viewer).await;
    let denied = viewer
        .fails(
            "POST",
            &path,
            Some(json!({"email": "x@y.com", "role": "viewer"})),
        )
        .await;
    assert_eq!((denied.status, denied.code), (403, ErrorCode::Forbidden));
    let (_, outsider) = admin.create_user("olga").await;
    assert_eq!(
        outsider.fails("GET", &path, None).await.code,
        ErrorCode::NotFound
    );

    let accept = |token: &str, username: &str| json!({"token": token, "username": username, "password": "chosen-password-1"});
    let wrong = anon
        .fails(
            "POST",
            "/api/v1/invitations/accept",
            Some(accept("qinv_wrong", "newbie")),
        )
        .await;
    assert_eq!((wrong.status, wrong.code), (404, ErrorCode::NotFound));
    let taken = anon
        .fails(
            "POST",
            "/api/v1/invitations/accept",
            Some(accept(token, "vera")),
        )
        .await;
    assert_eq!((taken.status, taken.code), (409, ErrorCode::Conflict));
    let accepted = anon
        .send(
            "POST",
            "/api/v1/invitations/accept",
            Some(accept(token, "newbie")),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    assert_eq!(accepted.json["role"], "viewer");
    assert_eq!(accepted.json["user"]["email"], "new.member@company.com");
    let again = anon
        .fails(
            "POST",
            "/api/v1/invitations/accept",
            Some(accept(token, "newbie2")),
        )
        .await;
    assert_eq!(again.status, 404, "a token is used once");

    let newbie = app.client(anon.login("newbie", "chosen-password-1").await.access_token);
    let me: Me = newbie.me().await;
    assert_eq!(me.teams[0].role, TeamRole::Viewer);
    let detail: TeamDetail = admin.get(&format!("/api/v1/teams/{team}")).await;
    assert!(detail.members.iter().any(|m| m.username == "newbie"));
    let pending: Value = admin.get(&path).await;
    assert_eq!(
        pending,
        json!([]),
        "accepted invitations are no longer pending"
    );

    // Revoking.
    let second: Value = admin
        .post(
            &path,
            json!({"email": "later@company.com", "role": "viewer"}),
        )
        .await;
    admin
        .delete(&format!("{path}/{}", second["id"].as_str().unwrap()))
        .await;
    let revoked = anon
        .fails(
            "POST",
            "/api/v1/invitations/accept",
            Some(accept(second["token"].as_str().unwrap(), "later")),
        )
        .await;
    assert_eq!(revoked.status, 404);
}
