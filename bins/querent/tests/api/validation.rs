//! Client mistakes are 422 with a message naming the field, never a 500.

use querent_domain::ErrorCode;
use querent_test_support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_missing_fields_and_wrong_types_are_422_naming_the_field() {
    let app = TestApp::builder().with_admin().spawn().await;
    let (admin, anon) = (app.admin(), app.anonymous());
    // (caller, path, raw body, the field the message must name); every one a POST.
    let cases = [
        (
            &anon,
            "/api/v1/auth/login",
            r#"{"username": "admin""#,
            "body",
        ),
        (
            &anon,
            "/api/v1/auth/login",
            r#"{"username": "admin"}"#,
            "password",
        ),
        (
            &anon,
            "/api/v1/auth/login",
            r#"{"username": 42, "password": "x"}"#,
            "username",
        ),
        (&anon, "/api/v1/auth/login", "", "body"),
        (&anon, "/api/v1/auth/login", "[1, 2]", "body"),
        (
            &admin,
            "/api/v1/connections",
            r#"{"name": "x", "dialect": "oracle"}"#,
            "dialect",
        ),
        (
            &admin,
            "/api/v1/connections",
            r#"{"name": "x", "dialect": "postgres", "port": "5432"}"#,
            "port",
        ),
        (
            &admin,
            "/api/v1/connections",
            r#"{"name": "x", "dialect": "postgres", "port": 70000}"#,
            "port",
        ),
        (
            &admin,
            "/api/v1/connections",
            r#"{"name": "x", "dialect": "postgres", "host": "h", "database": "d"}"#,
            "username",
        ),
        (
            &admin,
            "/api/v1/connections",
            r#"{"name": "x", "dialect": "postgres", "pasword": "typo"}"#,
            "pasword",
        ),
        (
            &admin,
            "/api/v1/connections",
            r#"{"dialect": "sqlite", "path": "/tmp"}"#,
            "name",
        ),
        (
            &admin,
            "/api/v1/users",
            r#"{"username": "ok-name", "password": "x", "role": "superuser"}"#,
            "role",
        ),
        (
            &admin,
            "/api/v1/users",
            r#"{"username": "ok-name", "password": "short"}"#,
            "password",
        ),
        (
            &admin,
            "/api/v1/users",
            r#"{"username": "a b", "password": "long-enough"}"#,
            "username",
        ),
        (&admin, "/api/v1/teams", r#"{"name": ""}"#, "name"),
        (
            &admin,
            "/api/v1/api-clients",
            r#"{"name": "x", "scopes": ["root"]}"#,
            "scopes",
        ),
        (
            &admin,
            "/api/v1/api-clients",
            r#"{"name": "x", "scopes": []}"#,
            "scopes",
        ),
    ];
    for (caller, path, body, field) in cases {
        let e = caller.send_raw("POST", path, body).await.error();
        assert_eq!(
            (e.status, e.code),
            (422, ErrorCode::ValidationError),
            "POST {path} {body}: {e:?}"
        );
        assert!(
            e.detail.contains(field),
            "POST {path} {body}: message should name `{field}`: {}",
            e.detail
        );
    }
    let e = admin
        .fails("GET", "/api/v1/connections/not-a-uuid", None)
        .await;
    assert_eq!(e.status, 422);
    assert!(e.detail.starts_with("path"));
    let e = admin
        .fails("GET", "/api/v1/connections?limit=abc", None)
        .await;
    assert_eq!(e.status, 422);
}
