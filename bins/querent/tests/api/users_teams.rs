//! User administration and team membership rules.

use querent_test_support::TestApp;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_the_last_admin_is_protected() {
    let app = TestApp::spawn().await;
    let setup = app.setup_admin().await;
    let admin = setup.str("access_token");
    let admin_id = setup.json["user"]["id"].as_str().unwrap().to_owned();

    let (bob_id, bob) = app.create_user(&admin, "bob").await;
    let dup = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "bob", "password": "another-pass"}),
        )
        .await;
    assert_eq!((dup.status, dup.code().as_str()), (409, "conflict"));
    assert_eq!(app.get("/api/v1/users", Some(&bob)).await.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/users/{bob_id}"), Some(&bob))
            .await
            .status,
        200,
        "users see themselves"
    );

    let page = app.get("/api/v1/users?limit=1", Some(&admin)).await;
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    let cursor = page.str("next_cursor");
    let next = app
        .get(
            &format!("/api/v1/users?limit=1&cursor={cursor}"),
            Some(&admin),
        )
        .await;
    assert_eq!(next.json["items"][0]["username"], "bob");
    assert!(next.json["next_cursor"].is_null());
    assert_eq!(
        app.get("/api/v1/users?limit=0", Some(&admin)).await.status,
        422
    );

    let demote = app
        .patch(
            &format!("/api/v1/users/{admin_id}"),
            Some(&admin),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demote.status, 409, "last admin: {}", demote.text);
    assert_eq!(
        app.delete(&format!("/api/v1/users/{admin_id}"), Some(&admin))
            .await
            .status,
        409
    );

    let disabled = app
        .patch(
            &format!("/api/v1/users/{bob_id}"),
            Some(&admin),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.json["disabled"], true);
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&bob)).await.status,
        403,
        "disabled accounts stop at once"
    );
    assert_eq!(app.login("bob", "bob-password-1").await.status, 403);
    assert_eq!(
        app.delete(&format!("/api/v1/users/{bob_id}"), Some(&admin))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{bob_id}"), Some(&admin))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_keep_an_owner_and_only_owners_grant_ownership() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let team = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Analytics"}))
        .await;
    assert_eq!(team.status, 201);
    let team = team.str("id");
    assert_eq!(
        app.post("/api/v1/teams", Some(&admin), json!({"name": "Analytics"}))
            .await
            .status,
        409
    );
    let (carol_id, carol) = app.create_user(&admin, "carol").await;
    let (dave_id, _) = app.create_user(&admin, "dave").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/teams/{team}/members/{carol_id}"),
            Some(&admin),
            json!({"role": "admin"})
        )
        .await
        .status,
        200
    );
    // A team admin manages members but cannot create owners.
    assert_eq!(
        app.post(
            &format!("/api/v1/teams/{team}/members/{dave_id}"),
            Some(&carol),
            json!({"role": "editor"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/teams/{team}/members/{dave_id}"),
            Some(&carol),
            json!({"role": "owner"})
        )
        .await
        .status,
        403
    );
    let detail = app
        .get(&format!("/api/v1/teams/{team}"), Some(&carol))
        .await;
    assert_eq!(
        detail.json["members"].as_array().unwrap().len(),
        3,
        "{}",
        detail.text
    );
    // The admin (owner, as creator) cannot leave the team ownerless.
    let me = app.get("/api/v1/auth/me", Some(&admin)).await;
    let admin_id = me.json["user"]["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/teams/{team}/members/{admin_id}"),
            Some(&admin),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        app.delete(
            &format!("/api/v1/teams/{team}/members/{admin_id}"),
            Some(&admin)
        )
        .await
        .status,
        409
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/teams/{team}/members/{dave_id}"),
            Some(&carol)
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.delete(&format!("/api/v1/teams/{team}"), Some(&carol))
            .await
            .status,
        403,
        "only owners delete teams"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/teams/{team}"), Some(&admin))
            .await
            .status,
        204
    );
}
