//! Health, readiness, docs, request ids, CORS, body limits, unknown routes.

use querent_test_support::TestApp;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_openapi_and_docs() {
    let app = TestApp::spawn().await;
    let h = app.get("/health", None).await;
    assert_eq!((h.status, h.json["status"].as_str()), (200, Some("ok")));
    let r = app.get("/ready", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["store"],
        if app.pg_store().is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert_eq!(r.json["provider"], "offline", "{}", r.text);
    assert_eq!(r.json["targets"]["exhausted"], 0, "{}", r.text);
    // No model configured: the semantic cache says it uses the lexical fallback, and why.
    assert_eq!(r.json["embedder"], "lexical-trigram-256", "{}", r.text);
    assert!(r.json["embedder_note"].is_string(), "{}", r.text);

    let spec = app.get("/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    for path in [
        "/api/v1/auth/setup",
        "/api/v1/auth/refresh",
        "/api/v1/connections/{id}/test",
        "/api/v1/teams/{id}/members/{user_id}",
    ] {
        assert!(
            spec.json["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(spec.json["components"]["securitySchemes"]["bearer"].is_object());
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.status, 308);
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "vendored Swagger UI page");
    let js = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(js.status, 200, "assets are served locally, not from a CDN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_404s_body_limit_and_cors() {
    let app = TestApp::builder()
        .config(|c| {
            c.max_body_bytes = 2048;
            c.cors_origins = vec!["https://bi.example.com".into()];
        })
        .spawn()
        .await;
    let r = app.get("/health", None).await;
    assert!(r.headers.get("x-request-id").is_some());
    let resp = app
        .client
        .get(format!("{}/health", app.base_url))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "abc-123");

    let nf = app.get("/api/v1/does-not-exist", None).await;
    assert_eq!((nf.status, nf.code().as_str()), (404, "not_found"));

    let big = json!({"username": "a".repeat(5000), "password": "x"});
    let r = app.post("/api/v1/auth/login", None, big).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "payload_too_large"),
        "{}",
        r.text
    );

    let pre = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/auth/me", app.base_url),
        )
        .header("origin", "https://bi.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pre.headers().get("access-control-allow-origin").unwrap(),
        "https://bi.example.com"
    );
    let evil = app
        .client
        .get(format!("{}/health", app.base_url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_read_by_all_changed_by_admins_and_validated() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let s = app.get("/api/v1/settings", Some(&admin)).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.json["default_max_rows"], 100);
    let p = app
        .patch(
            "/api/v1/settings",
            Some(&admin),
            json!({"max_rows_limit": 500, "log_level": "debug"}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(
        app.get("/api/v1/settings", Some(&admin)).await.json["max_rows_limit"],
        500
    );
    let bad = app
        .patch(
            "/api/v1/settings",
            Some(&admin),
            json!({"default_max_rows": 501}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.detail().starts_with("default_max_rows"), "{}", bad.text);
    let unknown = app
        .patch("/api/v1/settings", Some(&admin), json!({"colour": "blue"}))
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.detail().contains("colour"));
    // Survives a restart (it lives in the store).
    let app = app.restart().await;
    let admin = app
        .login("admin", "admin-password-1")
        .await
        .str("access_token");
    assert_eq!(
        app.get("/api/v1/settings", Some(&admin)).await.json["max_rows_limit"],
        500
    );
    let audit = app.get("/api/v1/audit?limit=50", Some(&admin)).await;
    let actions: Vec<&str> = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"settings.update") && actions.contains(&"auth.setup"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_are_limited_per_caller() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    assert_eq!(
        app.patch(
            "/api/v1/settings",
            Some(&admin),
            json!({"rate_limit_per_minute": 3})
        )
        .await
        .status,
        200
    );
    // The limit is re-read within a few seconds; wait for it, then exceed it.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    // Ten quick requests exceed a limit of 3 even if a minute boundary falls among them.
    let mut limited = None;
    for _ in 0..10 {
        let r = app.get("/api/v1/auth/me", Some(&admin)).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("no request was rate limited");
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.get("retry-after").is_some());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("fresh/querent-data");
    let app = TestApp::builder().data_dir(&data).demo().spawn().await;
    let token = app.setup_admin().await.str("access_token");
    // Some writes, so the store has a WAL and shared memory.
    let up = app
        .post(
            "/api/v1/teams",
            Some(&token),
            serde_json::json!({"name": "Writers"}),
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let mut files = vec![app.config.key_file_path(), app.config.demo_database_path()];
    if app.pg_store().is_none() {
        let store = app.config.sqlite_store_path();
        files.extend(app.store_files());
        assert!(
            files
                .iter()
                .any(|f| f.display().to_string().ends_with("-wal")),
            "the store runs in WAL mode: {files:?}"
        );
        assert!(files.contains(&store));
    }
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&app.config.files_dir()), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }

    // An install from before: loosened permissions are tightened at the next start.
    app.stop().await;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let app = app.restart().await;
    assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status, 200);
    assert_eq!(mode(&data), 0o700);
    for f in &files {
        if f.exists() {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
    }
}
