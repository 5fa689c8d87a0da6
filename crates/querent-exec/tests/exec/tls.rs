//! TLS to targets (`ssl_mode`, a CA certificate per connection) against the machine's own
//! servers. PostgreSQL is given a certificate made here (a throw-away CA, a server
//! certificate naming `localhost` only) through `ALTER SYSTEM` and a configuration reload,
//! and is put back as it was afterwards; plain connections keep working all along (the
//! `host` lines of pg_hba.conf accept both). MariaDB 10.11 cannot turn TLS on without a
//! restart, so it is checked twice: as a server without TLS (`prefer` falls back to plain
//! text, every mode that requires TLS refuses to connect), and as a private `mariadbd` the
//! test starts with a certificate of its own. `verify-ca` is refused for MySQL/MariaDB.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use querent_domain::{ConnectionTarget, SslMode};
use querent_exec::{ExecError, test_connection};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::{MY_ADDR, PG_ADDR, TIMEOUT, my, pg, service_available};

/// A CA: its certificate (PEM) and what signs with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A server certificate for `names`, signed by `ca`: (certificate PEM, key PEM).
fn server_cert(ca: &Ca, names: &[&str]) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn with_tls(
    mut t: ConnectionTarget,
    mode: SslMode,
    ca: Option<&str>,
    host: &str,
) -> ConnectionTarget {
    t.ssl_mode = mode;
    t.ca_certificate = ca.map(str::to_owned);
    t.host = Some(host.to_owned());
    t
}

fn refusal(r: Result<querent_exec::ServerInfo, ExecError>) -> String {
    match r {
        Err(ExecError::Connection(m)) => m,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

/// The PostgreSQL server's certificate settings, changed for a test and restored on drop
/// (the files go too).
struct PgCertificate {
    admin: tokio_postgres::Client,
    dir: PathBuf,
    was_on: bool,
}

impl PgCertificate {
    async fn install(cert: &str, key: &str) -> Self {
        let (admin, conn) = tokio_postgres::connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let show = |name: &'static str| {
            let admin = &admin;
            async move {
                admin
                    .query_one(&format!("SHOW {name}"), &[])
                    .await
                    .unwrap()
                    .get::<_, String>(0)
            }
        };
        let was_on = show("ssl").await == "on";
        // The server reads its files as its own user, who owns its data directory.
        let owner = std::fs::metadata(show("data_directory").await).unwrap();
        let dir = std::env::temp_dir().join(format!("querent-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for (name, body, mode) in [("server.crt", cert, 0o644), ("server.key", key, 0o600)] {
            let path = dir.join(name);
            std::fs::write(&path, body).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        let this = Self { admin, dir, was_on };
        // One statement at a time: ALTER SYSTEM cannot run in a transaction block.
        for sql in [
            format!(
                "ALTER SYSTEM SET ssl_cert_file = '{}'",
                this.dir.join("server.crt").display()
            ),
            format!(
                "ALTER SYSTEM SET ssl_key_file = '{}'",
                this.dir.join("server.key").display()
            ),
            "ALTER SYSTEM SET ssl = on".to_owned(),
            "SELECT pg_reload_conf()".to_owned(),
        ] {
            this.admin.batch_execute(&sql).await.unwrap();
        }
        this
    }

    async fn restore(self) {
        let mut statements = vec![
            "ALTER SYSTEM RESET ssl_cert_file",
            "ALTER SYSTEM RESET ssl_key_file",
        ];
        if !self.was_on {
            statements.push("ALTER SYSTEM RESET ssl");
        }
        statements.push("SELECT pg_reload_conf()");
        for sql in statements {
            self.admin.batch_execute(sql).await.unwrap();
        }
        // Give the server a moment to read its old files before these go.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_speaks_tls_and_checks_the_certificate_as_each_ssl_mode_says() {
    if !service_available("PostgreSQL", PG_ADDR).await {
        return;
    }
    let ours = ca("Querent test CA");
    let other = ca("Some other CA");
    let (cert, key) = server_cert(&ours, &["localhost"]);
    let installed = PgCertificate::install(&cert, &key).await;
    // The reload is asynchronous: wait until the server presents the new certificate.
    let full_localhost = with_tls(pg(), SslMode::VerifyFull, Some(&ours.pem), "localhost");
    let mut presented = false;
    for _ in 0..50 {
        if test_connection(&full_localhost, None, TIMEOUT)
            .await
            .is_ok()
        {
            presented = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (ours_pem, other_pem) = (ours.pem.clone(), other.pem.clone());
    let outcome = async move {
        assert!(presented, "the server never presented the test certificate");
        for (mode, ca, host) in [
            (SslMode::Disable, None, "127.0.0.1"),
            (SslMode::Prefer, None, "127.0.0.1"),
            (SslMode::Require, None, "127.0.0.1"),
            // verify-ca checks the chain, not the name: 127.0.0.1 is not in the certificate.
            (SslMode::VerifyCa, Some(ours_pem.as_str()), "127.0.0.1"),
            (SslMode::VerifyFull, Some(ours_pem.as_str()), "localhost"),
        ] {
            let info = test_connection(&with_tls(pg(), mode, ca, host), None, TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{mode} to {host}: {e}"));
            assert!(info.server_version.contains("PostgreSQL"), "{info:?}");
        }
        // verify-full: the certificate names localhost, not 127.0.0.1.
        let m = refusal(
            test_connection(
                &with_tls(pg(), SslMode::VerifyFull, Some(&ours_pem), "127.0.0.1"),
                None,
                TIMEOUT,
            )
            .await,
        );
        assert!(m.contains("certificate"), "{m}");
        // Another CA's certificate is not trusted, for either verifying mode.
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let m = refusal(
                test_connection(
                    &with_tls(pg(), mode, Some(&other_pem), "localhost"),
                    None,
                    TIMEOUT,
                )
                .await,
            );
            assert!(m.contains("certificate"), "{mode}: {m}");
        }
        // Without a CA of its own, a connection trusts public CAs only.
        let m = refusal(
            test_connection(
                &with_tls(pg(), SslMode::VerifyCa, None, "localhost"),
                None,
                TIMEOUT,
            )
            .await,
        );
        assert!(m.contains("certificate"), "{m}");
        // A CA that is not a certificate is the connection's mistake, named.
        match test_connection(
            &with_tls(
                pg(),
                SslMode::VerifyCa,
                Some("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
                "localhost",
            ),
            None,
            TIMEOUT,
        )
        .await
        {
            Err(ExecError::InvalidTarget(m)) => assert!(m.contains("ca_certificate"), "{m}"),
            other => panic!("expected InvalidTarget, got {other:?}"),
        }
    };
    // Restored whatever happened above.
    let outcome = tokio::spawn(outcome).await;
    installed.restore().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn mariadb_without_tls_is_refused_by_every_mode_that_requires_it() {
    if !service_available("MariaDB", MY_ADDR).await {
        return;
    }
    // `prefer` (the default) and `disable` talk plain text to a server without TLS.
    for mode in [SslMode::Disable, SslMode::Prefer] {
        let info = test_connection(&with_tls(my(), mode, None, "127.0.0.1"), None, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(!info.server_version.is_empty());
    }
    let ours = ca("Querent test CA");
    for (mode, ca) in [
        (SslMode::Require, None),
        (SslMode::VerifyFull, Some(ours.pem.as_str())),
    ] {
        let m =
            refusal(test_connection(&with_tls(my(), mode, ca, "127.0.0.1"), None, TIMEOUT).await);
        assert!(m.contains("SSL"), "{mode}: {m}");
    }
}

/// A MariaDB server of the test's own, with TLS: a fresh data directory
/// (`mariadb-install-db`), `mariadbd` on a free port of 127.0.0.1 with the given
/// certificate, stopped and removed on drop. The machine's shared server cannot turn TLS on
/// without a restart, so this one is started for the test.
struct PrivateMariadb {
    child: std::process::Child,
    dir: PathBuf,
    port: u16,
}

impl PrivateMariadb {
    /// `None` (skipped through querent-test-gate) when MariaDB's programs are missing.
    async fn start(cert: &str, key: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("querent-mariadb-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), cert).unwrap();
        std::fs::write(dir.join("key.pem"), key).unwrap();
        let installed = std::process::Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
            ])
            .arg("--skip-test-db")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .output();
        match installed {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let _ = std::fs::remove_dir_all(&dir);
                querent_test_gate::missing(
                    "mariadb-install-db",
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                );
                return None;
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                querent_test_gate::missing("mariadb-install-db", e);
                return None;
            }
        }
        let port = super::free_port();
        let child = std::process::Command::new("mariadbd")
            .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
            .args(["--skip-log-bin", "--innodb-buffer-pool-size=16M"])
            .arg(format!("--port={port}"))
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--ssl-cert={}", dir.join("cert.pem").display()))
            .arg(format!("--ssl-key={}", dir.join("key.pem").display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                querent_test_gate::missing("mariadbd", e);
                return None;
            }
        };
        let this = Self { child, dir, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(this);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the test's MariaDB did not start listening on port {port}");
    }
}

impl Drop for PrivateMariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn mariadb_with_tls_is_reached_and_checked_as_each_ssl_mode_says() {
    let ours = ca("Querent test CA");
    let other = ca("Some other CA");
    let (cert, key) = server_cert(&ours, &["localhost"]);
    let Some(server) = PrivateMariadb::start(&cert, &key).await else {
        return;
    };
    let target = |mode: SslMode, ca: Option<&str>, host: &str| {
        let mut t = with_tls(my(), mode, ca, host);
        t.port = Some(server.port);
        t.database = Some("mysql".to_owned());
        t
    };
    for (mode, ca, host) in [
        (SslMode::Disable, None, "127.0.0.1"),
        (SslMode::Prefer, None, "127.0.0.1"),
        (SslMode::Require, None, "127.0.0.1"),
        (SslMode::VerifyFull, Some(ours.pem.as_str()), "localhost"),
    ] {
        let info = test_connection(&target(mode, ca, host), None, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{mode} to {host}: {e}"));
        assert!(info.server_version.contains("MariaDB"), "{info:?}");
    }
    // verify-ca is refused for MySQL/MariaDB (the driver cannot skip only the name check).
    match test_connection(
        &target(SslMode::VerifyCa, Some(&ours.pem), "localhost"),
        None,
        TIMEOUT,
    )
    .await
    {
        Err(ExecError::InvalidTarget(m)) => assert!(m.contains("verify-ca"), "{m}"),
        other => panic!("expected InvalidTarget, got {other:?}"),
    }
    // The certificate names localhost, not 127.0.0.1; another CA is not trusted.
    for (mode, ca, host) in [
        (SslMode::VerifyFull, ours.pem.as_str(), "127.0.0.1"),
        (SslMode::VerifyFull, other.pem.as_str(), "localhost"),
    ] {
        let m = refusal(test_connection(&target(mode, Some(ca), host), None, TIMEOUT).await);
        assert!(
            m.to_lowercase().contains("certificate"),
            "{mode} to {host}: {m}"
        );
    }
}
