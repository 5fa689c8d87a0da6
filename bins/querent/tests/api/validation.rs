//! Client mistakes are 422 with a message naming the field, never a 500.

use querent_test_support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_missing_fields_and_wrong_types_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let t = Some(admin.as_str());
    let cases: Vec<(&str, &str, Option<&str>, &str, &str)> = vec![
        (
            "POST",
            "/api/v1/auth/login",
            None,
            r#"{"username": "admin""#,
            "body",
        ),
        (
            "POST",
            "/api/v1/auth/login",
            None,
            r#"{"username": "admin"}"#,
            "password",
        ),
        (
            "POST",
            "/api/v1/auth/login",
            None,
            r#"{"username": 42, "password": "x"}"#,
            "username",
        ),
        ("POST", "/api/v1/auth/login", None, "", "body"),
        ("POST", "/api/v1/auth/login", None, "[1, 2]", "body"),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"name": "x", "dialect": "oracle"}"#,
            "dialect",
        ),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"name": "x", "dialect": "postgres", "port": "5432"}"#,
            "port",
        ),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"name": "x", "dialect": "postgres", "port": 70000}"#,
            "port",
        ),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"name": "x", "dialect": "postgres", "host": "h", "database": "d"}"#,
            "username",
        ),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"name": "x", "dialect": "postgres", "pasword": "typo"}"#,
            "pasword",
        ),
        (
            "POST",
            "/api/v1/connections",
            t,
            r#"{"dialect": "sqlite", "path": "/tmp"}"#,
            "name",
        ),
        (
            "POST",
            "/api/v1/users",
            t,
            r#"{"username": "ok-name", "password": "x", "role": "superuser"}"#,
            "role",
        ),
        (
            "POST",
            "/api/v1/users",
            t,
            r#"{"username": "ok-name", "password": "short"}"#,
            "password",
        ),
        (
            "POST",
            "/api/v1/users",
            t,
            r#"{"username": "a b", "password": "long-enough"}"#,
            "username",
        ),
        ("POST", "/api/v1/teams", t, r#"{"name": ""}"#, "name"),
        (
            "POST",
            "/api/v1/api-clients",
            t,
            r#"{"name": "x", "scopes": ["root"]}"#,
            "scopes",
        ),
        (
            "POST",
            "/api/v1/api-clients",
            t,
            r#"{"name": "x", "scopes": []}"#,
            "scopes",
        ),
    ];
    for (method, path, token, body, field) in cases {
        let r = app.request_raw(method, path, token, body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "validation_error"),
            "{method} {path} {body}: {}",
            r.text
        );
        assert!(
            r.detail().contains(field),
            "{method} {path} {body}: message should name `{field}`: {}",
            r.detail()
        );
    }
    let r = app.get("/api/v1/connections/not-a-uuid", t).await;
    assert_eq!(r.status, 422);
    assert!(r.detail().starts_with("path"));
    let r = app.get("/api/v1/connections?limit=abc", t).await;
    assert_eq!(r.status, 422);
}
