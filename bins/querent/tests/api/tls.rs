//! TLS to targets through the API: a connection keeps its `ssl_mode` and CA certificate,
//! `require` reaches the local PostgreSQL over TLS and answers, and a CA certificate is
//! checked for what it must (PEM, no private key, not for SQLite). The certificate checks
//! themselves are querent-exec's tests (`tests/exec/tls.rs`).

use querent_test_support::{PgDatabase, TestApp};
use serde_json::json;

/// A PEM-shaped certificate (the API checks its shape; querent-exec parses it on use).
const CA: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ3VlcmVudA==\n-----END CERTIFICATE-----";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_keep_their_tls_mode_and_ca_certificate() {
    let Some(db) = PgDatabase::create("connections_keep_their_tls_mode_and_ca_certificate").await
    else {
        return;
    };
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let target = |name: &str, mode: &str| {
        json!({"name": name, "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
               "database": db.name, "username": "postgres", "ssl_mode": mode})
    };

    // `require`: TLS whatever the certificate (the local server has TLS on), and it answers.
    let r = admin
        .send(
            "POST",
            "/api/v1/connections",
            Some(target("tls", "require")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["ssl_mode"], "require");
    let id = r.str("id");
    let t = admin
        .send("POST", &format!("/api/v1/connections/{id}/test"), None)
        .await;
    assert_eq!(t.json["ok"], true, "{}", t.text);
    let rows = admin
        .send(
            "POST",
            "/api/v1/sql/run",
            Some(json!({"connection_id": id, "sql": "SELECT 1 AS one"})),
        )
        .await;
    assert_eq!(rows.status, 200, "{}", rows.text);
    assert_eq!(rows.json["rows"][0][0], 1);

    // `verify-full` with a CA of its own: stored and shown (it is not a secret), changed
    // and removed by PATCH.
    let mut body = target("verified", "verify-full");
    body["ca_certificate"] = json!(CA);
    let r = admin.send("POST", "/api/v1/connections", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["ssl_mode"], "verify-full");
    assert_eq!(r.json["ca_certificate"].as_str().map(str::trim), Some(CA));
    let vid = r.str("id");
    let r = admin
        .send(
            "PATCH",
            &format!("/api/v1/connections/{vid}"),
            Some(json!({"ssl_mode": "verify-ca", "ca_certificate": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["ssl_mode"], "verify-ca");
    assert!(r.json["ca_certificate"].is_null(), "{}", r.text);

    // What a CA certificate may not be.
    for (ca, why) in [
        ("not a certificate", "PEM"),
        (
            "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
            "private key",
        ),
    ] {
        let mut body = target("bad", "verify-ca");
        body["ca_certificate"] = json!(ca);
        let r = admin.send("POST", "/api/v1/connections", Some(body)).await;
        assert_eq!(
            (r.status, r.str("code")),
            (422, "validation_error".to_owned())
        );
        assert!(r.str("detail").contains(why), "{}", r.text);
    }
    let r = admin
        .send(
            "POST",
            "/api/v1/connections",
            Some(
                json!({"name": "file", "dialect": "sqlite", "path": "x.sqlite",
                        "ca_certificate": CA}),
            ),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.str("detail").contains("ca_certificate"), "{}", r.text);
}
