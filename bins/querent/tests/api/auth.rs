use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use querent_test_support::TestApp;
use serde_json::json;

use crate::sign_with_server_key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_happens_only_once() {
    let app = TestApp::spawn().await;
    let status = app.get("/api/v1/auth/setup-status", None).await;
    assert_eq!(status.json["needs_setup"], true);

    let r = app.setup_admin().await;
    assert_eq!(r.json["user"]["role"], "admin");
    assert_eq!(r.json["token_type"], "bearer");
    assert!(r.json["expires_in"].as_i64().unwrap() > 0);
    assert!(!r.str("refresh_token").is_empty());

    let again = app
        .post(
            "/api/v1/auth/setup",
            None,
            json!({"username": "intruder", "password": "intruder-pass"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "already_initialized");
    assert_eq!(
        app.get("/api/v1/auth/setup-status", None).await.json["needs_setup"],
        false
    );
    // The intruder account does not exist.
    assert_eq!(app.login("intruder", "intruder-pass").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_me_and_wrong_password() {
    let app = TestApp::spawn().await;
    app.setup_admin().await;
    let ok = app.login("admin", "admin-password-1").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let token = ok.str("access_token");
    let me = app.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["user"]["username"], "admin");
    assert_eq!(me.json["teams"][0]["role"], "owner");

    let wrong = app.login("admin", "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.headers.get("www-authenticate").unwrap(), "Bearer");
    let unknown = app.login("nobody", "whatever-pass").await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (401, "invalid_credentials"),
        "no user enumeration"
    );
    assert_eq!(
        app.get("/api/v1/auth/me", None).await.code(),
        "unauthorized"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_throttled_per_account() {
    let app = TestApp::spawn().await;
    app.setup_admin().await;
    for _ in 0..5 {
        assert_eq!(app.login("admin", "wrong-password").await.status, 401);
    }
    let blocked = app.login("admin", "admin-password-1").await;
    assert_eq!(
        blocked.status, 429,
        "even the right password waits: {}",
        blocked.text
    );
    assert_eq!(blocked.code(), "rate_limited");
    assert!(blocked.headers.get("retry-after").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_and_alg_none_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let setup = app.setup_admin().await;
    let user_id = setup.json["user"]["id"].as_str().unwrap().to_owned();
    let good = setup.str("access_token");
    assert_eq!(app.get("/api/v1/auth/me", Some(&good)).await.status, 200);

    let expired = sign_with_server_key(&app, &format!("user:{user_id}"), -5, Some(0));
    let r = app.get("/api/v1/auth/me", Some(&expired)).await;
    assert_eq!((r.status, r.code().as_str()), (401, "token_expired"));

    // Change the payload, keep the signature.
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let r = app.get("/api/v1/auth/me", Some(&forged)).await;
    assert_eq!((r.status, r.code().as_str()), (401, "invalid_token"));

    // alg: none, with and without a signature part.
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut none = header.clone();
    none["alg"] = json!("none");
    let none_h = URL_SAFE_NO_PAD.encode(none.to_string());
    for t in [
        format!("{none_h}.{}.", parts[1]),
        format!("{none_h}.{}.{}", parts[1], parts[2]),
        format!("{none_h}.{}", parts[1]),
    ] {
        let r = app.get("/api/v1/auth/me", Some(&t)).await;
        assert_eq!((r.status, r.code().as_str()), (401, "invalid_token"), "{t}");
    }
    // HS512 header on an HS256 signature, garbage, and a token signed by another key.
    let mut hs512 = header;
    hs512["alg"] = json!("HS512");
    let t = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(hs512.to_string()),
        parts[1],
        parts[2]
    );
    assert_eq!(app.get("/api/v1/auth/me", Some(&t)).await.status, 401);
    assert_eq!(
        app.get("/api/v1/auth/me", Some("garbage")).await.status,
        401
    );
    let other_key = querent_vault::Keyring::generate_in_memory().unwrap();
    let foreign = querent_app::jwt::sign(&other_key, format!("user:{user_id}"), 600, Some(0));
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&foreign)).await.code(),
        "invalid_token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let setup = app.setup_admin().await;
    let r1 = setup.str("refresh_token");
    // A second, independent login: a different family.
    let other_login = app
        .login("admin", "admin-password-1")
        .await
        .str("refresh_token");

    let second = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let r2 = second.str("refresh_token");
    assert_ne!(r1, r2);
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&second.str("access_token")))
            .await
            .status,
        200
    );

    // The old token again: theft assumed, family revoked.
    let reuse = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!((reuse.status, reuse.code().as_str()), (401, "token_reused"));
    let after = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await;
    assert_eq!(
        after.status, 401,
        "the newest token of a revoked family is dead too"
    );
    // Other logins are unaffected.
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": other_login})
        )
        .await
        .status,
        200
    );
    let unknown = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": "qrt_nonsense"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (401, "invalid_token")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_logout_all_and_password_change() {
    let app = TestApp::spawn().await;
    let setup = app.setup_admin().await;
    let (access, refresh) = (setup.str("access_token"), setup.str("refresh_token"));
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": refresh})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh})
        )
        .await
        .status,
        401
    );

    let second = app.login("admin", "admin-password-1").await;
    assert_eq!(
        app.post(
            "/api/v1/auth/logout-all",
            Some(&second.str("access_token")),
            json!({})
        )
        .await
        .status,
        204
    );
    let r = app.get("/api/v1/auth/me", Some(&access)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (401, "invalid_token"),
        "logout-all kills access tokens at once"
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": second.str("refresh_token")})
        )
        .await
        .status,
        401
    );

    let third = app
        .login("admin", "admin-password-1")
        .await
        .str("access_token");
    let bad = app
        .post(
            "/api/v1/auth/change-password",
            Some(&third),
            json!({"current_password": "wrong-one!", "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(bad.status, 401);
    let short = app
        .post(
            "/api/v1/auth/change-password",
            Some(&third),
            json!({"current_password": "admin-password-1", "new_password": "short"}),
        )
        .await;
    assert_eq!(
        (short.status, short.code().as_str()),
        (422, "validation_error")
    );
    assert!(short.detail().starts_with("new_password"));
    let changed = app
        .post(
            "/api/v1/auth/change-password",
            Some(&third),
            json!({"current_password": "admin-password-1", "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&third)).await.status,
        401,
        "old sessions end"
    );
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&changed.str("access_token")))
            .await
            .status,
        200
    );
    assert_eq!(app.login("admin", "admin-password-1").await.status, 401);
    assert_eq!(app.login("admin", "brand-new-pass").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_clients_exchange_credentials_and_act_with_their_scopes() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let created = app
        .post(
            "/api/v1/api-clients",
            Some(&admin),
            json!({"name": "etl", "scopes": ["query:read"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let (id, secret) = (created.str("client_id"), created.str("client_secret"));
    let listed = app.get("/api/v1/api-clients", Some(&admin)).await;
    assert!(!listed.text.contains(&secret), "the secret is shown once");
    assert_eq!(listed.json[0]["client_id"], id.as_str());

    let wrong = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"client_id": id, "client_secret": "qcs_wrong"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (401, "invalid_credentials")
    );
    let tok = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"client_id": id, "client_secret": secret, "grant_type": "client_credentials"}),
        )
        .await;
    assert_eq!(tok.status, 200, "{}", tok.text);
    assert_eq!(tok.json["scope"], "query:read");
    let ct = tok.str("access_token");
    let me = app.get("/api/v1/auth/me", Some(&ct)).await;
    assert_eq!(
        (
            me.json["kind"].as_str(),
            me.json["teams"][0]["role"].as_str()
        ),
        (Some("client"), Some("viewer"))
    );
    assert_eq!(app.get("/api/v1/connections", Some(&ct)).await.status, 200);
    let denied = app
        .post(
            "/api/v1/connections",
            Some(&ct),
            json!({"name": "x", "dialect": "sqlite", "path": "/nope"}),
        )
        .await;
    assert_eq!(
        denied.status, 403,
        "query:read cannot manage connections: {}",
        denied.text
    );
    assert_eq!(
        app.get("/api/v1/users", Some(&ct)).await.status,
        403,
        "clients are not server admins"
    );

    assert_eq!(
        app.delete(&format!("/api/v1/api-clients/{id}"), Some(&admin))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&ct)).await.status,
        401,
        "revoked clients' tokens stop working"
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/token",
            None,
            json!({"client_id": id, "client_secret": secret})
        )
        .await
        .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_family_takes_its_access_tokens_with_it() {
    let app = TestApp::spawn().await;
    app.setup_admin().await;
    let login = app.login("admin", "admin-password-1").await;
    let (a1, r1) = (login.str("access_token"), login.str("refresh_token"));
    // Another login of the same user: a family of its own.
    let other = app.login("admin", "admin-password-1").await;
    let (other_access, other_refresh) = (other.str("access_token"), other.str("refresh_token"));

    let rotated = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let a2 = rotated.str("access_token");
    for t in [&a1, &a2] {
        assert_eq!(app.get("/api/v1/auth/me", Some(t)).await.status, 200);
    }

    // The rotated-out refresh token again: theft assumed, the family is revoked…
    let reuse = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!((reuse.status, reuse.code().as_str()), (401, "token_reused"));
    // …and every access token issued from it stops working at once, long before expiry.
    for t in [&a1, &a2] {
        let r = app.get("/api/v1/auth/me", Some(t)).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "invalid_token"),
            "{}",
            r.text
        );
        assert!(r.detail().contains("log in again"), "{}", r.text);
        let r = app.get("/api/v1/connections", Some(t)).await;
        assert_eq!(r.status, 401);
    }
    // The other login is untouched…
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&other_access)).await.status,
        200
    );
    // …until it logs out: that ends its access token too.
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": other_refresh})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&other_access)).await.status,
        401
    );
    // A fresh login works.
    let fresh = app
        .login("admin", "admin-password-1")
        .await
        .str("access_token");
    assert_eq!(app.get("/api/v1/auth/me", Some(&fresh)).await.status, 200);
}

/// A logout racing a refresh: the revocation's UPDATE did not see the token the refresh
/// was inserting (staged here: every token of the family revoked but the newest). The
/// family is revoked all the same: the newest token is never rotated, and its access token
/// is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_racing_a_revocation_never_keeps_the_login_alive() {
    let app = TestApp::spawn().await;
    app.setup_admin().await;
    let login = app.login("admin", "admin-password-1").await;
    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": login.str("refresh_token")}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let (a2, r2) = (rotated.str("access_token"), rotated.str("refresh_token"));
    // Another login stays out of it.
    let other = app.login("admin", "admin-password-1").await;
    let other_refresh = other.str("refresh_token");
    // The family's first (used) token is revoked, the live one the revocation missed is not.
    app.store_execute("UPDATE refresh_tokens SET revoked = TRUE WHERE used_at IS NOT NULL")
        .await;
    let r = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await;
    assert_eq!(
        r.status, 401,
        "a revoked family is never rotated: {}",
        r.text
    );
    assert!(r.json.get("access_token").is_none(), "{}", r.text);
    let me = app.get("/api/v1/auth/me", Some(&a2)).await;
    assert_eq!(me.status, 401, "{}", me.text);
    let ok = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": other_refresh}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}
