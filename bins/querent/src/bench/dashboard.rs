//! `dashboard`: a dashboard of 12 widgets on the demo database (12 different saved
//! queries: counts, sums by group, series by month, top lists, joins), read over HTTP:
//!
//! - **cold**: `GET /api/v1/dashboards/{id}?refresh=true` — every widget's query runs
//!   (through the guard, at most 4 at a time);
//! - **cached**: `GET /api/v1/dashboards/{id}` within `refresh_seconds` — every widget from
//!   the result cache (access is still checked per widget);
//! - **10 viewers, cold**: ten readers at once just after the cache was emptied (a change
//!   of the connection's policy): each query should run once, not ten times.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::server::BenchServer;
use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

/// Samples per phase.
const SAMPLES: usize = 30;

/// The widgets' queries (all on the demo database).
const QUERIES: [&str; 12] = [
    "SELECT COUNT(*) AS customers FROM customers",
    "SELECT SUM(total_amount) AS revenue FROM orders",
    "SELECT status, COUNT(*) AS orders FROM orders GROUP BY status",
    "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY 2 DESC LIMIT 10",
    "SELECT strftime('%Y-%m', order_date) AS month, SUM(total_amount) AS revenue FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT segment, AVG(total_amount) AS avg_order FROM orders JOIN customers ON customers.id = orders.customer_id GROUP BY segment",
    "SELECT name, unit_price FROM products ORDER BY unit_price DESC LIMIT 10",
    "SELECT c.name AS category, SUM(oi.quantity * oi.unit_price) AS sales FROM order_items oi JOIN products p ON p.id = oi.product_id JOIN categories c ON c.id = p.category_id GROUP BY c.name",
    "SELECT d.name AS department, COUNT(*) AS staff FROM employees e JOIN departments d ON d.id = e.department_id GROUP BY d.name",
    "SELECT ship_country, COUNT(*) AS orders FROM orders GROUP BY ship_country ORDER BY 2 DESC LIMIT 10",
    "SELECT first_name, last_name, salary FROM employees ORDER BY salary DESC LIMIT 10",
    "SELECT COUNT(*) AS late FROM orders WHERE shipped_date > order_date",
];

const KINDS: [&str; 12] = [
    "metric", "metric", "pie", "bar", "line", "bar", "table", "bar", "bar", "bar", "table",
    "metric",
];

pub(super) async fn run(_args: &BenchArgs) -> Outcome {
    match measure().await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

async fn read(server: &BenchServer, path: &str) -> Result<Duration, String> {
    let t = Instant::now();
    let d = server.call("GET", path, None).await?;
    let elapsed = t.elapsed();
    let widgets = d["widgets"].as_array().map(Vec::len).unwrap_or(0);
    let failed: Vec<&Value> = d["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| !w["error"].is_null())
        .collect();
    if widgets != QUERIES.len() || !failed.is_empty() {
        return Err(format!(
            "dashboard answered {widgets} widgets, failing: {failed:?}"
        ));
    }
    Ok(elapsed)
}

async fn measure() -> Result<(String, Value), String> {
    let server = BenchServer::start().await?;
    let mut widgets = Vec::new();
    let mut ids = Vec::new();
    for (i, sql) in QUERIES.iter().enumerate() {
        let q = server
            .call(
                "POST",
                "/api/v1/queries",
                Some(json!({"name": format!("w{i}"), "connection_id": server.demo, "sql": sql})),
            )
            .await?;
        let id = q["id"].as_str().unwrap_or_default().to_owned();
        widgets.push(json!({"type": KINDS[i], "query_id": id,
            "position": {"x": (i % 4) * 3, "y": (i / 4) * 4, "w": 3, "h": 4}}));
        ids.push(id);
    }
    let d = server
        .call(
            "POST",
            "/api/v1/dashboards",
            Some(json!({"name": "bench", "refresh_seconds": 3600, "widgets": widgets})),
        )
        .await?;
    let path = format!(
        "/api/v1/dashboards/{}",
        d["id"].as_str().unwrap_or_default()
    );

    let mut cold = Vec::new();
    for _ in 0..SAMPLES {
        cold.push(ms(read(&server, &format!("{path}?refresh=true")).await?));
    }
    let mut cached = Vec::new();
    for _ in 0..SAMPLES {
        cached.push(ms(read(&server, &path).await?));
    }
    // Ten viewers at once on an emptied cache (a policy change is a new cache key).
    let runs_before = count_runs(&server, &ids).await?;
    server
        .call(
            "PUT",
            &format!("/api/v1/connections/{}/privacy", server.demo),
            Some(json!({"masked_column_patterns": ["email"]})),
        )
        .await?;
    let t = Instant::now();
    let mut readers = Vec::new();
    for _ in 0..10 {
        readers.push(read(&server, &path));
    }
    let results = futures_util::future::join_all(readers).await;
    let wall = ms(t.elapsed());
    for r in results {
        r?;
    }
    let runs = count_runs(&server, &ids).await? - runs_before;
    server.stop().await;

    let (c, h) = (summarize(&cold), summarize(&cached));
    let text = render_table(
        &["phase", "p50 ms", "p95 ms", "max ms"],
        &[
            vec![
                "cold (12 queries run)".to_owned(),
                fmt(c.p50, 2),
                fmt(c.p95, 2),
                fmt(c.max, 2),
            ],
            vec![
                "cached".to_owned(),
                fmt(h.p50, 2),
                fmt(h.p95, 2),
                fmt(h.max, 2),
            ],
        ],
    ) + &format!(
        "\n10 viewers at once, cold: {} ms wall, {runs} query runs for 12 widgets (single flight)\n",
        fmt(wall, 1)
    );
    let json = json!({
        "widgets": QUERIES.len(),
        "cold_ms": c, "cached_ms": h,
        "ten_viewers_cold_wall_ms": wall, "ten_viewers_query_runs": runs,
    });
    Ok((text, json))
}

/// Runs recorded so far, over every widget's query.
async fn count_runs(server: &BenchServer, ids: &[String]) -> Result<usize, String> {
    let mut n = 0;
    for id in ids {
        let runs = server
            .call("GET", &format!("/api/v1/queries/{id}/runs?limit=100"), None)
            .await?;
        n += runs.as_array().map(Vec::len).unwrap_or(0);
    }
    Ok(n)
}
