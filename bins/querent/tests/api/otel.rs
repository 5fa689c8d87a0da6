//! The `otel` feature: `querent serve` with `QUERENT_OTEL_ENDPOINT` exports its spans over
//! OTLP/HTTP protobuf to `<endpoint>/v1/traces`, and sends what is queued when it stops.
//! The collector is a tiny HTTP receiver on a local port that records every POST. Built
//! without the feature, a configured endpoint stops `querent serve` at start-up.

#[cfg(not(feature = "otel"))]
#[test]
fn without_the_feature_a_configured_endpoint_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_querent"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("QUERENT_DATABASE_URL")
        .env_remove("QUERENT_MASTER_KEY")
        .env("QUERENT_DEMO", "false")
        .env("QUERENT_OTEL_ENDPOINT", "http://127.0.0.1:4318")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run querent serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("built without the `otel` feature"),
        "{stderr}"
    );
}

#[cfg(feature = "otel")]
use std::io::{BufRead, BufReader, Read, Write};
#[cfg(feature = "otel")]
use std::net::{TcpListener, TcpStream};
#[cfg(feature = "otel")]
use std::sync::{Arc, Mutex};
#[cfg(feature = "otel")]
use std::time::{Duration, Instant};

#[cfg(feature = "otel")]
use serde_json::json;

#[cfg(feature = "otel")]
use crate::served::Served;

/// What the receiver got: (request path, content type, body).
#[cfg(feature = "otel")]
type Posts = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

#[cfg(feature = "otel")]
/// Answers one keep-alive connection: records each POST, replies 200 with an empty body.
fn answer(stream: TcpStream, posts: &Posts) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "content-type" => value.trim().clone_into(&mut content_type),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if method == "POST" {
            posts.lock().unwrap().push((path, content_type, body));
        }
        out.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
        )?;
        out.flush()?;
    }
}

#[cfg(feature = "otel")]
/// Starts the receiver; its base URL (`http://127.0.0.1:PORT`) and what it records.
fn collector() -> (String, Posts) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let posts: Posts = Arc::default();
    let sink = posts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sink = sink.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &sink);
            });
        }
    });
    (base, posts)
}

#[cfg(feature = "otel")]
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(feature = "otel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_reach_the_collector_by_the_time_the_server_stops() {
    let (endpoint, posts) = collector();
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &[("QUERENT_OTEL_ENDPOINT", &endpoint)]);
    let client = served.client();
    assert_eq!(client.send("GET", "/health", None).await.status, 200);
    let login = client
        .send(
            "POST",
            "/api/v1/auth/login",
            Some(json!({"username": "nobody", "password": "not-the-password"})),
        )
        .await;
    assert!((400..500).contains(&login.status), "{}", login.status);
    served.signal("TERM");
    let status = served
        .wait_exit(Duration::from_secs(120))
        .expect("the server exits");
    assert!(status.success(), "{status:?}: {:?}", served.output());

    // The export finished before the process exited; the deadline only covers a slow
    // receiver thread.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = posts.lock().unwrap().clone();
        let traces: Vec<_> = got.iter().filter(|(p, _, _)| p == "/v1/traces").collect();
        let found = traces.iter().any(|(_, _, body)| {
            // The resource attribute service.name = "querent", protobuf-encoded
            // (KeyValue { key, value: AnyValue { string_value } }), and the span.
            contains(body, b"service.name\x12\x09\x0a\x07querent")
                && contains(body, b"request")
                && contains(body, b"/health")
        });
        if found {
            assert!(
                traces
                    .iter()
                    .all(|(_, ct, _)| ct == "application/x-protobuf"),
                "protobuf bodies: {:?}",
                traces.iter().map(|(_, ct, _)| ct).collect::<Vec<_>>()
            );
            assert!(
                traces
                    .iter()
                    .any(|(_, _, body)| contains(body, b"/api/v1/auth/login")),
                "the login's span was exported too"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no trace with service.name querent and a `request` span for /health; got {} posts to {:?}",
            got.len(),
            got.iter().map(|(p, _, b)| (p, b.len())).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
