//! Health, readiness, docs, request ids, CORS, body limits, unknown routes, settings, rate
//! limits and the data directory's permissions.

use querent_domain::ErrorCode;
use querent_test_support::TestApp;
use querent_test_support::views::{AuditView, Health, Me, Readiness, SettingsView, TeamView};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_openapi_and_docs() {
    let app = TestApp::spawn().await;
    let anon = app.anonymous();
    let h: Health = anon.get("/health").await;
    assert_eq!(h.status, "ok");
    let r: Readiness = anon.get("/ready").await;
    assert_eq!(
        r.store,
        if app.pg_store().is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert_eq!(r.provider, "offline", "{r:?}");
    assert_eq!(r.targets.exhausted, 0, "{r:?}");
    // No model configured: the semantic cache says it uses the lexical fallback, and why.
    assert_eq!(r.embedder, "lexical-trigram-256", "{r:?}");
    assert!(r.embedder_note.is_some(), "{r:?}");

    // The document itself, read raw: it is what clients are generated from.
    let spec = anon.send("GET", "/openapi.json", None).await;
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
    let redirect = anon.send("GET", "/docs", None).await;
    assert_eq!(redirect.status, 308);
    let docs = anon.send("GET", "/docs/", None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "vendored Swagger UI page");
    let js = anon.send("GET", "/docs/swagger-ui-bundle.js", None).await;
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
    let anon = app.anonymous();
    let r = anon.send("GET", "/health", None).await;
    assert!(r.headers.get("x-request-id").is_some());
    let resp = app
        .client
        .get(format!("{}/health", app.base_url))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "abc-123");

    let nf = anon.fails("GET", "/api/v1/does-not-exist", None).await;
    assert_eq!((nf.status, nf.code), (404, ErrorCode::NotFound));

    let big = json!({"username": "a".repeat(5000), "password": "x"});
    let e = anon.fails("POST", "/api/v1/auth/login", Some(big)).await;
    assert_eq!(
        (e.status, e.code),
        (413, ErrorCode::PayloadTooLarge),
        "{e:?}"
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
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let s: SettingsView = admin.get("/api/v1/settings").await;
    assert_eq!(s.default_max_rows, 100);
    let p: SettingsView = admin
        .patch(
            "/api/v1/settings",
            json!({"max_rows_limit": 500, "log_level": "debug"}),
        )
        .await;
    assert_eq!((p.max_rows_limit, p.log_level.as_str()), (500, "debug"));
    let s: SettingsView = admin.get("/api/v1/settings").await;
    assert_eq!(s.max_rows_limit, 500);
    let bad = admin
        .fails(
            "PATCH",
            "/api/v1/settings",
            Some(json!({"default_max_rows": 501})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.detail.starts_with("default_max_rows"), "{bad:?}");
    let unknown = admin
        .fails("PATCH", "/api/v1/settings", Some(json!({"colour": "blue"})))
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.detail.contains("colour"));
    // Survives a restart (it lives in the store).
    let app = app.restart().await;
    let tokens = app.anonymous().login("admin", "admin-password-1").await;
    let admin = app.client(tokens.access_token);
    let s: SettingsView = admin.get("/api/v1/settings").await;
    assert_eq!(s.max_rows_limit, 500);
    let audit: Vec<AuditView> = admin.get("/api/v1/audit?limit=50").await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"settings.update") && actions.contains(&"auth.setup"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_are_limited_per_caller() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let s: SettingsView = admin
        .patch("/api/v1/settings", json!({"rate_limit_per_minute": 3}))
        .await;
    assert_eq!(s.rate_limit_per_minute, 3);
    // The limit is re-read within a few seconds; wait for it, then exceed it.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    // Ten quick requests exceed a limit of 3 even if a minute boundary falls among them.
    let mut limited = None;
    for _ in 0..10 {
        let r = admin.send("GET", "/api/v1/auth/me", None).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("no request was rate limited");
    assert_eq!(limited.error().code, ErrorCode::RateLimited);
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
    let app = TestApp::builder().data_dir(&data).with_demo().spawn().await;
    // Some writes, so the store has a WAL and shared memory.
    let _: TeamView = app
        .admin()
        .post("/api/v1/teams", json!({"name": "Writers"}))
        .await;
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
    let _: Me = app.admin().me().await;
    assert_eq!(mode(&data), 0o700);
    for f in &files {
        if f.exists() {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
    }
}
