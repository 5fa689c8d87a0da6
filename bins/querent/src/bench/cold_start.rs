//! `cold_start`: from spawning this very binary as `querent --data-dir <fresh temp dir>
//! serve --bind 127.0.0.1:0` to its first `200` from `GET /ready`, over [`RUNS`] runs; once
//! with the defaults (the first start generates the demo database) and once with
//! `QUERENT_DEMO=false`. The address is read from the line the server prints; the server's
//! VmRSS one second after `/ready` is its idle memory.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::server::{ChildServer, listen_address};
use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

/// Runs per variant.
const RUNS: usize = 3;
/// Give up on a start after this long.
const TIMEOUT: Duration = Duration::from_secs(60);

pub(super) async fn run(_args: &BenchArgs) -> Outcome {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return Outcome::Skipped(format!("cannot find the querent binary: {e}")),
    };
    if exe.file_stem().and_then(|s| s.to_str()) != Some("querent") {
        return Outcome::Skipped(format!(
            "not running as the querent binary ({}); run `querent bench`",
            exe.display()
        ));
    }
    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    for (variant, demo) in [
        ("defaults (demo generated)", true),
        ("QUERENT_DEMO=false", false),
    ] {
        let mut listening = Vec::new();
        let mut ready = Vec::new();
        let mut idle_rss = Vec::new();
        for _ in 0..RUNS {
            match start_once(&exe, demo).await {
                Ok((l, r, rss)) => {
                    listening.push(ms(l));
                    ready.push(ms(r));
                    idle_rss.push(rss as f64 / 1024.0);
                }
                Err(e) => return Outcome::Failed(format!("{variant}: {e}")),
            }
        }
        let (l, r, m) = (
            summarize(&listening),
            summarize(&ready),
            summarize(&idle_rss),
        );
        rows.push(vec![
            variant.to_owned(),
            RUNS.to_string(),
            fmt(l.min, 0),
            fmt(l.p50, 0),
            fmt(r.min, 0),
            fmt(r.p50, 0),
            fmt(r.max, 0),
            fmt(m.p50, 1),
        ]);
        report.insert(
            variant.to_owned(),
            json!({"listening_ms": listening, "ready_ms": ready, "ready_min_ms": r.min, "ready_median_ms": r.p50, "idle_rss_mib": idle_rss}),
        );
    }
    let table = render_table(
        &[
            "variant",
            "runs",
            "listening min ms",
            "listening median ms",
            "/ready 200 min ms",
            "/ready 200 median ms",
            "max ms",
            "idle RSS MiB (median)",
        ],
        &rows,
    );
    Outcome::Done {
        text: format!(
            "{} --data-dir <fresh temp dir> serve --bind 127.0.0.1:0 (embedded store, new key file)\n{table}\n",
            exe.display()
        ),
        json: Value::Object(report),
    }
}

/// One start: (time until the "listening" line, time until `/ready` answered 200, VmRSS in
/// KiB one second after that, idle).
async fn start_once(
    exe: &std::path::Path,
    demo: bool,
) -> Result<(Duration, Duration, u64), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = tmp.path().join("data");
    let t0 = Instant::now();
    let mut child = ChildServer(
        Command::new(exe)
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(tmp.path())
            .env_remove("QUERENT_DATABASE_URL")
            .env_remove("QUERENT_BIND")
            .env("QUERENT_DEMO", if demo { "true" } else { "false" })
            .env("QUERENT_LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", exe.display()))?,
    );
    let rx = listen_address(&mut child)?;
    let base = match tokio::time::timeout(TIMEOUT, rx).await {
        Ok(Ok(Some(url))) => url,
        Ok(_) => {
            let status = child.0.try_wait().ok().flatten();
            return Err(format!("the server exited before listening ({status:?})"));
        }
        Err(_) => return Err("no `listening on` line within 60 s".into()),
    };
    let listening = t0.elapsed();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    loop {
        if let Ok(r) = client.get(format!("{base}/ready")).send().await
            && r.status().as_u16() == 200
        {
            let ready = t0.elapsed();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let rss = std::fs::read_to_string(format!("/proc/{}/status", child.0.id()))
                .ok()
                .and_then(|s| super::parse_status_kib(&s, "VmRSS:"))
                .unwrap_or(0);
            return Ok((listening, ready, rss));
        }
        if t0.elapsed() > TIMEOUT {
            return Err("/ready did not answer 200 within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
