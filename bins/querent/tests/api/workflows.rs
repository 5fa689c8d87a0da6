//! Workflows through HTTP: create/read/update/delete with validation, roles and team
//! isolation; manual runs (steps recorded, a false condition, `on: changed`, webhooks
//! delivered and retried); the scheduler running a workflow on its own; and two instances
//! on one PostgreSQL store firing each slot exactly once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use querent_domain::{ErrorCode, TeamRole};
use querent_test_support::views::{Page, TeamView};
use querent_test_support::{Client, PgDatabase, TestApp};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Deserialize)]
struct Workflow {
    id: String,
    team_id: String,
    name: String,
    enabled: bool,
    schedule: Option<Value>,
    steps: Vec<Value>,
    next_run_at: Option<String>,
    created_by: String,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    output_summary: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Run {
    id: String,
    workflow_id: String,
    status: String,
    trigger: String,
    scheduled_for: Option<String>,
    missed_slots: u32,
    started_at: Option<String>,
    finished_at: Option<String>,
    steps: Vec<Step>,
    error: Option<String>,
}

/// A webhook receiver on 127.0.0.1: answers every request with `status` and keeps the
/// JSON bodies it received.
#[derive(Clone)]
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let body = read_request(&mut sock).await;
                    kept.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Receiver { url, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// Reads one HTTP request and returns its body (by `content-length`).
async fn read_request(sock: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[end + 4..].to_vec();
        }
    }
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    id: String,
}

/// Saves `sql` on a connection (`POST /queries`).
async fn save(client: &Client, conn: &str, name: &str, sql: &str) -> SavedQuery {
    client
        .post(
            "/api/v1/queries",
            json!({"name": name, "connection_id": conn, "sql": sql}),
        )
        .await
}

async fn create(client: &Client, body: Value) -> Workflow {
    client.post("/api/v1/workflows", body).await
}

async fn run_now(client: &Client, id: &str) -> Run {
    client
        .post(&format!("/api/v1/workflows/{id}/run?wait=true"), json!({}))
        .await
}

async fn runs(client: &Client, id: &str) -> Vec<Run> {
    let page: Page<Run> = client
        .get(&format!("/api/v1/workflows/{id}/runs?limit=200"))
        .await;
    page.items
}

fn millis(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_are_validated_and_kept_per_team_with_roles() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id.to_string();
    let team = app.setup().team.id.to_string();
    let q = save(
        &admin,
        &demo,
        "Customers",
        "SELECT COUNT(*) AS n FROM customers",
    )
    .await;

    let w = create(
        &admin,
        json!({
            "name": "  Weekly customers  ",
            "schedule": {"cron": "0 9 * * MON", "timezone": "Europe/Berlin"},
            "steps": [
                {"type": "run_query", "query_id": q.id},
                {"type": "condition", "on": "row_count", "op": ">", "value": 0},
                {"type": "webhook", "url": "http://127.0.0.1:9/hook"}
            ]
        }),
    )
    .await;
    assert_eq!(w.name, "Weekly customers");
    assert_eq!(w.team_id, team);
    assert!(w.enabled);
    assert_eq!(w.steps.len(), 3);
    assert!(w.created_by.starts_with("user:"));
    // Mondays at 09:00 in Berlin are 07:00 or 08:00 UTC.
    let next = w.next_run_at.clone().expect("scheduled");
    assert!(
        next.contains("T07:00:00") || next.contains("T08:00:00"),
        "{next}"
    );
    let path = format!("/api/v1/workflows/{}", w.id);
    let got: Workflow = admin.get(&path).await;
    assert_eq!(got.id, w.id);
    let listed: Page<Workflow> = admin.get("/api/v1/workflows?limit=10").await;
    assert_eq!(listed.items.len(), 1);

    // Only by hand: no next run; turned off: none either.
    let changed: Workflow = admin
        .patch(&path, json!({"schedule": null, "name": "By hand"}))
        .await;
    assert_eq!(
        (changed.name.as_str(), changed.schedule, changed.next_run_at),
        ("By hand", None, None)
    );
    let changed: Workflow = admin
        .patch(
            &path,
            json!({"schedule": {"cron": "*/5 * * * *"}, "enabled": false}),
        )
        .await;
    assert!(!changed.enabled && changed.next_run_at.is_none());
    assert_eq!(changed.schedule.unwrap()["timezone"], "UTC");
    let e = admin.fails("PATCH", &path, Some(json!({}))).await;
    assert_eq!(e.code, ErrorCode::ValidationError);

    // Validation names the field and why.
    let step = json!({"type": "run_query", "query_id": q.id});
    let cases = [
        (json!({"name": "", "steps": [step]}), "name:"),
        (
            json!({"name": "x", "steps": []}),
            "steps: a workflow has 1 to 20 steps",
        ),
        (
            json!({"name": "x", "steps": [step], "schedule": {"cron": "61 * * * *"}}),
            "schedule.cron: `61 * * * *` the minute field has 61, out of its range 0–59",
        ),
        (
            json!({"name": "x", "steps": [step], "schedule": {"cron": "* * * *"}}),
            "schedule.cron: `* * * *` has 4 fields",
        ),
        (
            json!({"name": "x", "steps": [step], "schedule": {"cron": "0 * * * *", "timezone": "Mars/Olympus"}}),
            "schedule.timezone: `Mars/Olympus` is not a known IANA time zone",
        ),
        (
            json!({"name": "x", "steps": [{"type": "condition", "on": "changed"}]}),
            "steps[0]: a condition needs a run_query or ask step before it",
        ),
        (
            json!({"name": "x", "steps": [step, {"type": "condition", "on": "value", "value": 3}]}),
            "steps[1]: op: required with on: value",
        ),
        (
            json!({"name": "x", "steps": [step, {"type": "webhook", "url": "http://10.1.2.3/hook"}]}),
            "steps[1].url: the URL resolves to 10.1.2.3, a private network address",
        ),
        (
            json!({"name": "x", "steps": [step, {"type": "webhook", "url": "http://169.254.169.254/latest"}]}),
            "a cloud metadata address, which is never allowed",
        ),
        (
            json!({"name": "x", "steps": [{"type": "run_query", "query_id": uuid::Uuid::now_v7()}]}),
            "steps[0].query_id: no saved query",
        ),
    ];
    for (body, want) in cases {
        let e = admin
            .fails("POST", "/api/v1/workflows", Some(body.clone()))
            .await;
        assert_eq!(e.code, ErrorCode::ValidationError, "{body}: {}", e.detail);
        assert!(e.detail.contains(want), "{body}: {}", e.detail);
    }
    let e = admin
        .fails(
            "POST",
            "/api/v1/workflows",
            Some(json!({"name": "x", "steps": [{"type": "sleep"}]})),
        )
        .await;
    assert_eq!(e.status, 422, "{}", e.detail);

    // Another team: its connection is unknown to us, our workflow is not found to them.
    let b_team: TeamView = admin.post("/api/v1/teams", json!({"name": "Team B"})).await;
    let bob = admin.create_member(b_team.id, "bob", TeamRole::Admin).await;
    let b_conn = bob.add_sqlite("b-file", &app.sqlite_file()).await;
    // (The admin created team B and so is in it; Alice is only in the first team.)
    let alice = admin
        .create_member(app.setup().team.id, "alice", TeamRole::Editor)
        .await;
    let e = alice
        .fails(
            "POST",
            "/api/v1/workflows",
            Some(json!({"name": "x", "steps": [
                {"type": "ask", "connection_id": b_conn.id, "question": "how many?"}
            ]})),
        )
        .await;
    assert_eq!(e.code, ErrorCode::ValidationError);
    assert!(
        e.detail
            .starts_with("steps[0].connection_id: no connection"),
        "{}",
        e.detail
    );
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"name": "mine"}))),
        ("DELETE", path.clone(), None),
        ("POST", format!("{path}/run"), None),
        ("GET", format!("{path}/runs"), None),
    ] {
        let e = bob.fails(method, &p, body).await;
        assert_eq!(e.code, ErrorCode::NotFound, "{method} {p}");
    }
    let theirs: Page<Workflow> = bob.get("/api/v1/workflows").await;
    assert!(theirs.items.is_empty());
    // Bob's own workflow with only a webhook belongs to his team (his first membership).
    let own = create(
        &bob,
        json!({"name": "ping", "steps": [{"type": "webhook", "url": "http://127.0.0.1:9/x"}]}),
    )
    .await;
    assert_eq!(own.team_id, b_team.id.to_string());
    // And cannot be put in a team he does not belong to.
    let e = bob
        .fails(
            "POST",
            "/api/v1/workflows",
            Some(json!({"name": "x", "team_id": team,
                "steps": [{"type": "webhook", "url": "http://127.0.0.1:9/x"}]})),
        )
        .await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // Viewers read, editors manage and run.
    let viewer = admin
        .create_member(app.setup().team.id, "vera", TeamRole::Viewer)
        .await;
    let _: Workflow = viewer.get(&path).await;
    let _: Page<Run> = viewer.get(&format!("{path}/runs")).await;
    for (method, p, body) in [
        (
            "POST",
            "/api/v1/workflows".to_owned(),
            Some(json!({"name": "x", "steps": [step]})),
        ),
        ("PATCH", path.clone(), Some(json!({"name": "mine"}))),
        ("DELETE", path.clone(), None),
        ("POST", format!("{path}/run"), None),
    ] {
        let e = viewer.fails(method, &p, body).await;
        assert_eq!(e.code, ErrorCode::Forbidden, "{method} {p}: {}", e.detail);
    }

    admin.delete(&path).await;
    assert_eq!(
        admin.fails("GET", &path, None).await.code,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_runs_record_their_steps_conditions_and_webhooks() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let demo = app.demo().id.to_string();
    let q = save(
        &admin,
        &demo,
        "Customers",
        "SELECT COUNT(*) AS n FROM customers",
    )
    .await;
    let ok = Receiver::start(200).await;

    // Query → condition true → webhook: all succeed, the receiver gets the summary.
    let w = create(
        &admin,
        json!({"name": "notify", "steps": [
            {"type": "run_query", "query_id": q.id},
            {"type": "condition", "on": "value", "column": "n", "op": ">", "value": 0},
            {"type": "webhook", "url": ok.url}
        ]}),
    )
    .await;
    let run = run_now(&admin, &w.id).await;
    assert_eq!(
        (run.status.as_str(), run.trigger.as_str()),
        ("succeeded", "manual"),
        "{run:?}"
    );
    assert!(run.started_at.is_some() && run.finished_at.is_some());
    assert_eq!(run.workflow_id, w.id);
    let kinds: Vec<_> = run
        .steps
        .iter()
        .map(|s| (s.kind.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("run_query", "succeeded"),
            ("condition", "succeeded"),
            ("webhook", "succeeded")
        ]
    );
    assert_eq!(run.steps[0].output_summary.as_deref(), Some("1 row"));
    assert!(
        run.steps[1]
            .output_summary
            .as_deref()
            .unwrap()
            .contains("n > 0 is true")
    );
    let bodies = ok.bodies();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(body["workflow_id"], w.id.as_str());
    assert_eq!(body["run_id"], run.id.as_str());
    assert_eq!(body["workflow"], "notify");
    assert_eq!(body["result_summary"]["columns"], json!(["n"]));
    assert_eq!(body["result_summary"]["row_count"], 1);
    assert!(body["result_summary"]["first_rows"][0][0].as_i64().unwrap() > 0);
    // The saved query's run is recorded as the workflow's.
    let qruns: Vec<Value> = admin.get(&format!("/api/v1/queries/{}/runs", q.id)).await;
    assert_eq!(qruns[0]["run_by"], format!("workflow:{}", w.id));

    // A false condition ends the run as succeeded; the rest is skipped.
    let w2 = create(
        &admin,
        json!({"name": "quiet", "steps": [
            {"type": "run_query", "query_id": q.id},
            {"type": "condition", "on": "row_count", "op": ">", "value": 5},
            {"type": "webhook", "url": ok.url}
        ]}),
    )
    .await;
    let run = run_now(&admin, &w2.id).await;
    assert_eq!(run.status, "succeeded", "{run:?}");
    assert_eq!(run.steps[1].status, "succeeded");
    assert!(
        run.steps[1]
            .output_summary
            .as_deref()
            .unwrap()
            .contains("is false")
    );
    assert_eq!(run.steps[2].status, "skipped");
    assert_eq!(ok.bodies().len(), 1, "the webhook was skipped");

    // `on: changed`: the first run is new, the second sees the same result and stops.
    let w3 = create(
        &admin,
        json!({"name": "on change", "steps": [
            {"type": "run_query", "query_id": q.id},
            {"type": "condition", "on": "changed"},
            {"type": "webhook", "url": ok.url}
        ]}),
    )
    .await;
    let first = run_now(&admin, &w3.id).await;
    assert_eq!(first.steps[2].status, "succeeded", "{first:?}");
    let second = run_now(&admin, &w3.id).await;
    assert_eq!(second.status, "succeeded");
    assert!(
        second.steps[1]
            .output_summary
            .as_deref()
            .unwrap()
            .contains("changed is false")
    );
    assert_eq!(second.steps[2].status, "skipped");
    assert_eq!(ok.bodies().len(), 2);

    // A failing receiver is tried three times, then the run fails.
    let failing = Receiver::start(500).await;
    let w4 = create(
        &admin,
        json!({"name": "broken hook", "steps": [
            {"type": "run_query", "query_id": q.id},
            {"type": "webhook", "url": failing.url},
            {"type": "webhook", "url": ok.url}
        ]}),
    )
    .await;
    let run = run_now(&admin, &w4.id).await;
    assert_eq!(run.status, "failed", "{run:?}");
    assert_eq!(failing.bodies().len(), 3);
    assert_eq!(run.steps[1].status, "failed");
    let err = run.steps[1].error.as_deref().unwrap();
    assert!(
        err.contains("HTTP 500") && err.contains("3 attempts"),
        "{err}"
    );
    assert_eq!(run.steps[2].status, "skipped");
    assert!(
        run.error
            .as_deref()
            .unwrap()
            .starts_with("steps[1] (webhook) failed")
    );
    // A 4xx is not retried.
    let gone = Receiver::start(404).await;
    let w5 = create(
        &admin,
        json!({"name": "gone hook", "steps": [{"type": "webhook", "url": gone.url}]}),
    )
    .await;
    let run = run_now(&admin, &w5.id).await;
    assert_eq!(run.status, "failed");
    assert_eq!(gone.bodies().len(), 1);
    assert_eq!(gone.bodies()[0]["result_summary"], Value::Null);

    // An ask step answers through the chat pipeline.
    let w6 = create(
        &admin,
        json!({"name": "ask", "steps": [
            {"type": "ask", "connection_id": demo, "question": "how many customers are there?"},
            {"type": "condition", "on": "row_count", "op": "=", "value": 1}
        ]}),
    )
    .await;
    let run = run_now(&admin, &w6.id).await;
    assert_eq!(run.status, "succeeded", "{run:?}");
    assert_eq!(run.steps[0].output_summary.as_deref(), Some("1 row"));

    // Without `wait`: 202 with the queued run, which then ends on its own.
    let r = admin
        .send("POST", &format!("/api/v1/workflows/{}/run", w.id), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let queued: Run = r.typed();
    assert_eq!(queued.status, "queued");
    let mut done = None;
    for _ in 0..100 {
        let now: Run = admin
            .get(&format!("/api/v1/workflows/{}/runs/{}", w.id, queued.id))
            .await;
        if now.status == "succeeded" || now.status == "failed" {
            done = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done.expect("the run ended").status, "succeeded");
    // Newest first.
    let all = runs(&admin, &w.id).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, queued.id);
    // Another workflow's run is not found under this one.
    let e = admin
        .fails(
            "GET",
            &format!("/api/v1/workflows/{}/runs/{}", w2.id, queued.id),
            None,
        )
        .await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // The creator's rights count at run time: a creator no longer in the team fails it.
    let eve = admin
        .create_member(app.setup().team.id, "eve", TeamRole::Editor)
        .await;
    let w7 = create(
        &eve,
        json!({"name": "eve's", "team_id": app.setup().team.id,
            "steps": [{"type": "run_query", "query_id": q.id}]}),
    )
    .await;
    let eve_id = eve.me().await.user.unwrap().id;
    admin
        .delete(&format!(
            "/api/v1/teams/{}/members/{eve_id}",
            app.setup().team.id
        ))
        .await;
    let run = run_now(&admin, &w7.id).await;
    assert_eq!(run.status, "failed");
    assert!(
        run.error
            .as_deref()
            .unwrap()
            .contains("no longer a member of its team"),
        "{:?}",
        run.error
    );
    assert_eq!(run.steps[0].status, "skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_workflow_runs_on_its_own() {
    let app = TestApp::builder().with_admin().spawn().await;
    let admin = app.admin();
    let hook = Receiver::start(200).await;
    let w = create(
        &admin,
        json!({"name": "every 2 s", "schedule": {"cron": "*/2 * * * * *"},
            "steps": [{"type": "webhook", "url": hook.url}]}),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = runs(&admin, &w.id)
            .await
            .into_iter()
            .filter(|r| r.status == "succeeded")
            .collect();
        if seen.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen.len() >= 2, "{seen:?}");
    for r in &seen {
        assert_eq!(r.trigger, "schedule");
        let slot = millis(r.scheduled_for.as_deref().unwrap());
        assert_eq!(slot % 2000, 0, "slots are on even seconds");
    }
    let off: Workflow = admin
        .patch(
            &format!("/api/v1/workflows/{}", w.id),
            json!({"enabled": false}),
        )
        .await;
    assert!(off.next_run_at.is_none());
    assert!(hook.bodies().len() >= 2);
}

/// Two servers on one PostgreSQL store, both schedulers running: a workflow due every 2 s
/// runs exactly once per slot — no slot twice, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_store_fire_each_slot_exactly_once() {
    let Some(db) =
        PgDatabase::create("two_instances_on_one_store_fire_each_slot_exactly_once").await
    else {
        return;
    };
    let db = Arc::new(db);
    let one = TestApp::builder()
        .with_admin()
        .pg_store(db.clone())
        .spawn()
        .await;
    // The second shares the store and the key file (so tokens and secrets read the same).
    let two = TestApp::builder()
        .data_dir(one.data_path())
        .pg_store(db.clone())
        .spawn()
        .await;
    let admin = one.admin();
    let hook = Receiver::start(200).await;
    let w = create(
        &admin,
        json!({"name": "every 2 s", "schedule": {"cron": "*/2 * * * * *", "timezone": "Europe/Berlin"},
            "steps": [{"type": "webhook", "url": hook.url}]}),
    )
    .await;
    // Both serve it.
    let _: Workflow = two
        .client(admin.token())
        .get(&format!("/api/v1/workflows/{}", w.id))
        .await;
    tokio::time::sleep(Duration::from_secs(24)).await;
    let _: Workflow = admin
        .patch(
            &format!("/api/v1/workflows/{}", w.id),
            json!({"enabled": false}),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut all = runs(&admin, &w.id).await;
    assert!(
        all.iter()
            .all(|r| r.trigger == "schedule" && r.status == "succeeded"),
        "{all:?}"
    );
    all.sort_by_key(|r| millis(r.scheduled_for.as_deref().unwrap()));
    let slots: Vec<i64> = all
        .iter()
        .map(|r| millis(r.scheduled_for.as_deref().unwrap()))
        .collect();
    let mut unique = slots.clone();
    unique.dedup();
    assert_eq!(unique, slots, "a slot ran twice");
    // Contiguous: each run's slot follows the previous one's (plus any it coalesced).
    for pair in all.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let gap = millis(b.scheduled_for.as_deref().unwrap())
            - millis(a.scheduled_for.as_deref().unwrap());
        assert_eq!(
            gap,
            2000 * (1 + i64::from(a.missed_slots)),
            "a slot was lost: {a:?} {b:?}"
        );
    }
    let covered: u32 = all.iter().map(|r| 1 + r.missed_slots).sum();
    let expected = (slots[slots.len() - 1] - slots[0]) / 2000 + 1;
    assert_eq!(i64::from(covered), expected);
    assert!(all.len() >= 10, "only {} runs in 24 s", all.len());
    assert_eq!(hook.bodies().len(), all.len(), "one delivery per run");
    let owners = one
        .store_strings(&format!(
            "SELECT lease_owner FROM workflow_runs WHERE workflow_id = '{}'",
            w.id
        ))
        .await;
    let mut by_owner = std::collections::BTreeMap::<String, usize>::new();
    for o in owners.into_iter().flatten() {
        *by_owner.entry(o).or_default() += 1;
    }
    eprintln!(
        "two instances: {} runs for {} slots ({} coalesced), by instance: {by_owner:?}",
        all.len(),
        expected,
        covered as usize - all.len()
    );
    drop(two);
}
