//! The workspace tables (saved queries and runs, dashboards, workflows and runs,
//! asynchronous questions, assistants), on whichever backend the test runs: round trips of
//! every field, filters and paging, run retention, cascades, and the compare-and-set claims
//! and lease-conditional writes, also under concurrency and across two stores sharing one
//! database.

use std::collections::HashSet;
use std::sync::Arc;

use querent_domain::chat::ResultSet;
use querent_domain::ports::{MetadataStore, Page, StoreError};
use querent_domain::query::ColumnMeta;
use querent_domain::workspace::*;
use querent_domain::*;
use querent_store::Store;
use serde_json::json;

use crate::{Seeded, connection, seed_with_connection, team};

fn result_set(n: i64) -> ResultSet {
    ResultSet {
        columns: vec![ColumnMeta {
            name: "n".into(),
            type_name: "int8".into(),
            masked: false,
        }],
        rows: vec![vec![json!(n)], vec![json!("text")], vec![json!(null)]],
        row_count: 3,
        truncated: false,
        execution_time_ms: 7,
        ..Default::default()
    }
}

/// A saved query with every optional field set.
fn saved_query(team: TeamId, conn: ConnectionId, name: &str, tags: &[&str]) -> SavedQuery {
    SavedQuery {
        id: SavedQueryId::new(),
        team_id: team,
        connection_id: conn,
        name: name.into(),
        description: Some(format!("{name} description")),
        question: Some(format!("what about {name}?")),
        sql: "SELECT count(*) FROM orders".into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        provider: Some("offline".into()),
        message_id: Some(MessageId::new()),
        created_by: "user:someone".into(),
        created_at: 1_000,
        updated_at: 2_000,
    }
}

fn query_run(query: SavedQueryId, started_at: i64, snapshot: bool) -> QueryRun {
    QueryRun {
        id: QueryRunId::new(),
        query_id: query,
        run_by: "user:someone".into(),
        started_at,
        duration_ms: 12,
        row_count: Some(3),
        truncated: false,
        error_code: None,
        error_detail: None,
        snapshot: snapshot.then(|| result_set(started_at)),
    }
}

fn dashboard(team: TeamId, query: SavedQueryId) -> Dashboard {
    Dashboard {
        id: DashboardId::new(),
        team_id: team,
        name: "Sales".into(),
        description: Some("weekly numbers".into()),
        widgets: vec![
            Widget {
                id: "w1".into(),
                kind: WidgetKind::Bar,
                query_id: query,
                title: Some("Orders by region".into()),
                position: WidgetPosition {
                    x: 0,
                    y: 1,
                    w: 6,
                    h: 4,
                },
                options: json!({"colors": ["#123456"], "x_label": "region", "stacked": true}),
            },
            Widget {
                id: "w2".into(),
                kind: WidgetKind::Metric,
                query_id: query,
                title: None,
                position: WidgetPosition::default(),
                options: serde_json::Value::Null,
            },
        ],
        refresh_seconds: 300,
        created_by: "user:someone".into(),
        created_at: 1_000,
        updated_at: 2_000,
    }
}

fn workflow(team: TeamId, conn: ConnectionId, query: SavedQueryId, next: Option<i64>) -> Workflow {
    Workflow {
        id: WorkflowId::new(),
        team_id: team,
        name: "Nightly check".into(),
        description: Some("alerts when orders stop".into()),
        enabled: true,
        schedule: Some(Schedule {
            cron: "0 3 * * *".into(),
            timezone: "Europe/Paris".into(),
        }),
        steps: vec![
            WorkflowStep::RunQuery { query_id: query },
            WorkflowStep::Ask {
                connection_id: conn,
                question: "how many orders today?".into(),
            },
            WorkflowStep::Condition {
                on: ConditionSubject::Value,
                column: Some("n".into()),
                op: Some(CompareOp::Ge),
                value: Some(json!(10)),
            },
            WorkflowStep::Condition {
                on: ConditionSubject::Changed,
                column: None,
                op: None,
                value: None,
            },
            WorkflowStep::Webhook {
                url: "https://hooks.example.com/x".into(),
            },
        ],
        next_run_at: next,
        created_by: "user:someone".into(),
        created_at: 1_000,
        updated_at: 2_000,
    }
}

fn workflow_run(w: &Workflow, trigger: RunTrigger, slot: Option<i64>, owner: &str) -> WorkflowRun {
    WorkflowRun {
        id: WorkflowRunId::new(),
        workflow_id: w.id,
        team_id: w.team_id,
        status: WorkflowRunStatus::Queued,
        trigger,
        scheduled_for: slot,
        missed_slots: 2,
        started_at: None,
        finished_at: None,
        steps: Vec::new(),
        error: None,
        lease_owner: Some(owner.into()),
        lease_expires_at: Some(now_millis() + 60_000),
        created_at: now_millis(),
    }
}

fn question(team: TeamId, conn: ConnectionId, created_at: i64) -> AsyncQuestion {
    AsyncQuestion {
        id: QuestionId::new(),
        team_id: team,
        connection_id: conn,
        question: "how many orders?".into(),
        provider: None,
        assistant_id: None,
        state: QuestionState::Pending,
        asked_by: "client:abc".into(),
        attempts: 0,
        lease_owner: None,
        lease_expires_at: None,
        results: None,
        error_code: None,
        error_detail: None,
        created_at,
        started_at: None,
        finished_at: None,
    }
}

fn assistant(team: TeamId, conn: ConnectionId, name: &str) -> Assistant {
    Assistant {
        id: AssistantId::new(),
        team_id: team,
        name: name.into(),
        description: Some("answers about sales".into()),
        connection_id: conn,
        provider: Some("openai-main".into()),
        model: Some("gpt-x".into()),
        instructions: Some("Fiscal years start in April.".into()),
        options: AssistantOptions {
            execution_mode: Some(ExecutionMode::ReviewFirst),
            max_rows: Some(50),
            explain_results: Some(true),
            show_query: Some(false),
        },
        created_by: "user:someone".into(),
        created_at: 1_000,
        updated_at: 2_000,
    }
}

fn ids<T, I: ToString>(items: &[T], id: impl Fn(&T) -> I) -> Vec<String> {
    items.iter().map(|x| id(x).to_string()).collect()
}

/// Saved queries round-trip every field (and `None`s), update, and delete once.
pub async fn saved_queries_round_trip_update_and_delete(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &["sales", "daily"]);
    store.insert_saved_query(&q).await.unwrap();
    assert_eq!(store.get_saved_query(q.id).await.unwrap(), q);

    let bare = SavedQuery {
        description: None,
        question: None,
        tags: Vec::new(),
        provider: None,
        message_id: None,
        ..saved_query(t.id, c.id, "bare", &[])
    };
    store.insert_saved_query(&bare).await.unwrap();
    assert_eq!(store.get_saved_query(bare.id).await.unwrap(), bare);
    assert!(matches!(
        store.insert_saved_query(&bare).await,
        Err(StoreError::Conflict(_))
    ));

    // Every field but id, team and created_* is replaced (tags too).
    let c2 = connection(t.id, "other");
    store.insert_connection(&c2).await.unwrap();
    let updated = SavedQuery {
        connection_id: c2.id,
        name: "orders v2".into(),
        description: None,
        question: Some("how many orders now?".into()),
        sql: "SELECT 2".into(),
        tags: vec!["weekly".into()],
        provider: None,
        message_id: None,
        updated_at: 3_000,
        ..q.clone()
    };
    store.update_saved_query(&updated).await.unwrap();
    assert_eq!(store.get_saved_query(q.id).await.unwrap(), updated);
    let page = Page::first(10);
    let tagged = |tag: &str| SavedQueryFilter {
        tag: Some(tag.into()),
        ..Default::default()
    };
    assert!(
        store
            .list_saved_queries(&[t.id], &tagged("sales"), &page)
            .await
            .unwrap()
            .is_empty(),
        "the old tags are gone"
    );
    assert_eq!(
        ids(
            &store
                .list_saved_queries(&[t.id], &tagged("weekly"), &page)
                .await
                .unwrap(),
            |q| q.id
        ),
        vec![q.id.to_string()]
    );

    let missing = saved_query(t.id, c.id, "missing", &[]);
    assert!(matches!(
        store.update_saved_query(&missing).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_saved_query(missing.id).await,
        Err(StoreError::NotFound)
    ));
    let orphan = saved_query(t.id, ConnectionId::new(), "orphan", &[]);
    assert!(matches!(
        store.insert_saved_query(&orphan).await,
        Err(StoreError::MissingReference(_))
    ));

    store
        .insert_query_run(&query_run(q.id, 10, true), 10, 10)
        .await
        .unwrap();
    store.delete_saved_query(q.id).await.unwrap();
    assert!(matches!(
        store.get_saved_query(q.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_query_runs(q.id, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_saved_query(q.id).await,
        Err(StoreError::NotFound)
    ));
}

/// The listing filters by connection, exact tag (whatever characters it holds) and
/// case-insensitive text (LIKE wildcards match themselves), only in the caller's teams,
/// and pages by id.
pub async fn saved_queries_filter_and_page(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let c2 = connection(t.id, "second");
    store.insert_connection(&c2).await.unwrap();
    let mut a = saved_query(t.id, c.id, "Growth 100%", &["50%", "a_b"]);
    a.sql = "SELECT * FROM Orders".into();
    let mut b = saved_query(t.id, c.id, "Growth 1000", &["5x%", "axb", "x,y"]);
    b.description = Some("Straße und Ärger".into());
    let mut d = saved_query(t.id, c2.id, "snake_case", &["x", "y", "%", "_"]);
    d.sql = "SELECT 1".into();
    d.question = None;
    for q in [&a, &b, &d] {
        store.insert_saved_query(q).await.unwrap();
    }
    let other_team = team("Elsewhere");
    store.insert_team(&other_team, None).await.unwrap();
    let oc = connection(other_team.id, "theirs");
    store.insert_connection(&oc).await.unwrap();
    store
        .insert_saved_query(&saved_query(other_team.id, oc.id, "Growth 100%", &["50%"]))
        .await
        .unwrap();

    let list = |filter: SavedQueryFilter| {
        let store = store.clone();
        async move {
            let found = store
                .list_saved_queries(&[t.id], &filter, &Page::first(50))
                .await
                .unwrap();
            let mut names: Vec<String> = found.into_iter().map(|q| q.name).collect();
            names.sort();
            names
        }
    };
    let tag = |t: &str| SavedQueryFilter {
        tag: Some(t.into()),
        ..Default::default()
    };
    let text = |t: &str| SavedQueryFilter {
        text: Some(t.into()),
        ..Default::default()
    };

    assert_eq!(list(SavedQueryFilter::default()).await.len(), 3);
    assert_eq!(
        list(SavedQueryFilter {
            connection_id: Some(c2.id),
            ..Default::default()
        })
        .await,
        ["snake_case"]
    );
    // Tags match exactly: no wildcard, no substring, commas are part of the tag.
    assert_eq!(list(tag("50%")).await, ["Growth 100%"]);
    assert_eq!(list(tag("5%")).await, Vec::<String>::new());
    assert_eq!(list(tag("a_b")).await, ["Growth 100%"]);
    assert_eq!(list(tag("axb")).await, ["Growth 1000"]);
    assert_eq!(list(tag("x,y")).await, ["Growth 1000"]);
    assert_eq!(list(tag("x")).await, ["snake_case"]);
    assert_eq!(list(tag("%")).await, ["snake_case"]);
    assert_eq!(list(tag("_")).await, ["snake_case"]);
    assert_eq!(list(tag("X")).await, Vec::<String>::new());
    // Text: case-insensitive contains over name, description, question and SQL.
    assert_eq!(list(text("GROWTH")).await, ["Growth 100%", "Growth 1000"]);
    assert_eq!(list(text("0%")).await, ["Growth 100%"]);
    assert_eq!(list(text("%")).await, ["Growth 100%"]);
    assert_eq!(list(text("_")).await, ["snake_case"]);
    assert_eq!(list(text("e_c")).await, ["snake_case"]);
    assert_eq!(
        list(text("h_1")).await,
        Vec::<String>::new(),
        "`_` is no wildcard"
    );
    assert_eq!(list(text("orders")).await, ["Growth 100%", "Growth 1000"]);
    assert_eq!(list(text("select 1")).await, ["snake_case"]);
    assert_eq!(list(text("what about snake")).await, Vec::<String>::new());
    assert_eq!(list(text("what about growth 1000?")).await, ["Growth 1000"]);
    assert_eq!(
        list(text("ÄRGER")).await,
        ["Growth 1000"],
        "non-ASCII case folds too"
    );
    assert_eq!(list(text("\\")).await, Vec::<String>::new());
    // Filters combine.
    assert_eq!(
        list(SavedQueryFilter {
            connection_id: Some(c.id),
            tag: Some("50%".into()),
            text: Some("growth".into()),
        })
        .await,
        ["Growth 100%"]
    );
    assert_eq!(
        list(SavedQueryFilter {
            connection_id: Some(c2.id),
            tag: Some("50%".into()),
            text: None,
        })
        .await,
        Vec::<String>::new()
    );

    // Paging by id.
    let mut expected = ids(&[a.id, b.id, d.id], |i| *i);
    expected.sort();
    let first = store
        .list_saved_queries(&[t.id], &SavedQueryFilter::default(), &Page::first(2))
        .await
        .unwrap();
    assert_eq!(ids(&first, |q| q.id), expected[..2]);
    let rest = store
        .list_saved_queries(
            &[t.id],
            &SavedQueryFilter::default(),
            &Page {
                after: Some(first[1].id.to_string()),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&rest, |q| q.id), expected[2..]);
    assert_eq!(
        store
            .list_saved_queries(&[t.id, other_team.id], &tag("50%"), &Page::first(10))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .list_saved_queries(&[], &SavedQueryFilter::default(), &Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Runs round-trip; only the newest `keep` runs and `keep_snapshots` snapshots stay.
pub async fn query_runs_keep_the_newest(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    let other = saved_query(t.id, c.id, "other", &[]);
    store.insert_saved_query(&q).await.unwrap();
    store.insert_saved_query(&other).await.unwrap();
    assert!(store.latest_query_snapshot(q.id).await.unwrap().is_none());

    let failed = QueryRun {
        row_count: None,
        truncated: true,
        error_code: Some(ErrorCode::QueryTimeout),
        error_detail: Some("cancelled after 5s".into()),
        ..query_run(q.id, 100, false)
    };
    store.insert_query_run(&failed, 3, 2).await.unwrap();
    assert_eq!(
        store.list_query_runs(q.id, 10).await.unwrap(),
        vec![failed.clone()]
    );
    let other_run = query_run(other.id, 50, true);
    store.insert_query_run(&other_run, 3, 2).await.unwrap();

    let runs: Vec<QueryRun> = (1..=4).map(|i| query_run(q.id, 100 + i, true)).collect();
    for r in &runs {
        store.insert_query_run(r, 3, 2).await.unwrap();
    }
    let kept = store.list_query_runs(q.id, 10).await.unwrap();
    assert_eq!(
        ids(&kept, |r| r.id),
        ids(&[runs[3].id, runs[2].id, runs[1].id], |i| *i),
        "the newest three, newest first"
    );
    assert_eq!(kept[0], runs[3], "a run round-trips with its snapshot");
    assert!(kept[1].snapshot.is_some());
    assert!(kept[2].snapshot.is_none(), "only two snapshots are kept");
    assert_eq!(store.list_query_runs(q.id, 1).await.unwrap().len(), 1);
    assert_eq!(
        store.list_query_runs(other.id, 10).await.unwrap(),
        vec![other_run],
        "another query's runs are untouched"
    );

    // The newest snapshot, even when newer runs kept none.
    let bare = query_run(q.id, 200, false);
    store.insert_query_run(&bare, 3, 2).await.unwrap();
    let latest = store.latest_query_snapshot(q.id).await.unwrap().unwrap();
    assert_eq!(latest, runs[3]);

    // Keeping nothing empties the history.
    store
        .insert_query_run(&query_run(q.id, 300, true), 0, 0)
        .await
        .unwrap();
    assert!(store.list_query_runs(q.id, 10).await.unwrap().is_empty());
    assert!(store.latest_query_snapshot(q.id).await.unwrap().is_none());
    assert!(matches!(
        store
            .insert_query_run(&query_run(SavedQueryId::new(), 1, false), 3, 2)
            .await,
        Err(StoreError::MissingReference(_))
    ));
}

/// Dashboards round-trip their widgets, update, page and delete once.
pub async fn dashboards_round_trip_update_and_page(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    store.insert_saved_query(&q).await.unwrap();
    let d = dashboard(t.id, q.id);
    store.insert_dashboard(&d).await.unwrap();
    assert_eq!(store.get_dashboard(d.id).await.unwrap(), d);
    let bare = Dashboard {
        id: DashboardId::new(),
        description: None,
        widgets: Vec::new(),
        ..d.clone()
    };
    store.insert_dashboard(&bare).await.unwrap();
    assert_eq!(store.get_dashboard(bare.id).await.unwrap(), bare);

    let mut changed = d.clone();
    changed.name = "Sales (new)".into();
    changed.description = None;
    changed.widgets.truncate(1);
    changed.widgets[0].kind = WidgetKind::Pie;
    changed.refresh_seconds = 60;
    changed.updated_at = 5_000;
    store.update_dashboard(&changed).await.unwrap();
    assert_eq!(store.get_dashboard(d.id).await.unwrap(), changed);
    let missing = dashboard(t.id, q.id);
    assert!(matches!(
        store.update_dashboard(&missing).await,
        Err(StoreError::NotFound)
    ));

    let first = store
        .list_dashboards(&[t.id], &Page::first(1))
        .await
        .unwrap();
    let rest = store
        .list_dashboards(
            &[t.id],
            &Page {
                after: Some(first[0].id.to_string()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&first, |d| d.id), vec![d.id.to_string()]);
    assert_eq!(ids(&rest, |d| d.id), vec![bare.id.to_string()]);
    assert!(
        store
            .list_dashboards(&[TeamId::new()], &Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );

    store.delete_dashboard(d.id).await.unwrap();
    assert!(matches!(
        store.get_dashboard(d.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_dashboard(d.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Assistants round-trip, update, page and delete once; their questions stay without them.
pub async fn assistants_round_trip_update_and_page(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let a = assistant(t.id, c.id, "Sales helper");
    store.insert_assistant(&a).await.unwrap();
    assert_eq!(store.get_assistant(a.id).await.unwrap(), a);
    let bare = Assistant {
        description: None,
        provider: None,
        model: None,
        instructions: None,
        options: AssistantOptions::default(),
        ..assistant(t.id, c.id, "Bare")
    };
    store.insert_assistant(&bare).await.unwrap();
    assert_eq!(store.get_assistant(bare.id).await.unwrap(), bare);

    let c2 = connection(t.id, "other");
    store.insert_connection(&c2).await.unwrap();
    let changed = Assistant {
        name: "Renamed".into(),
        connection_id: c2.id,
        model: None,
        options: AssistantOptions {
            execution_mode: Some(ExecutionMode::GenerateOnly),
            ..AssistantOptions::default()
        },
        updated_at: 9_000,
        ..a.clone()
    };
    store.update_assistant(&changed).await.unwrap();
    assert_eq!(store.get_assistant(a.id).await.unwrap(), changed);
    assert!(matches!(
        store.update_assistant(&assistant(t.id, c.id, "x")).await,
        Err(StoreError::NotFound)
    ));

    let page = store
        .list_assistants(&[t.id], &Page::first(10))
        .await
        .unwrap();
    assert_eq!(ids(&page, |a| a.id), ids(&[a.id, bare.id], |i| *i));
    let after = store
        .list_assistants(
            &[t.id],
            &Page {
                after: Some(a.id.to_string()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&after, |a| a.id), vec![bare.id.to_string()]);

    let mut q = question(t.id, c.id, 1);
    q.assistant_id = Some(a.id);
    store.insert_question(&q).await.unwrap();
    store.delete_assistant(a.id).await.unwrap();
    assert!(matches!(
        store.get_assistant(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_assistant(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_question(q.id).await.unwrap().assistant_id, None);
}

/// Workspace rows die with what owns them: a connection takes its saved queries (and their
/// runs), assistants and questions; a team takes everything; a workflow its runs.
pub async fn workspace_rows_die_with_their_owners(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let keep = connection(t.id, "kept");
    store.insert_connection(&keep).await.unwrap();
    let q = saved_query(t.id, c.id, "orders", &["x"]);
    store.insert_saved_query(&q).await.unwrap();
    let kept_q = saved_query(t.id, keep.id, "kept", &[]);
    store.insert_saved_query(&kept_q).await.unwrap();
    store
        .insert_query_run(&query_run(q.id, 1, true), 5, 5)
        .await
        .unwrap();
    let a = assistant(t.id, c.id, "helper");
    store.insert_assistant(&a).await.unwrap();
    let question = question(t.id, c.id, 1);
    store.insert_question(&question).await.unwrap();
    let d = dashboard(t.id, q.id);
    store.insert_dashboard(&d).await.unwrap();

    store.delete_connection(c.id).await.unwrap();
    assert!(matches!(
        store.get_saved_query(q.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_query_runs(q.id, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.get_assistant(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_question(question.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_saved_query(kept_q.id).await.unwrap(), kept_q);
    assert_eq!(
        store.get_dashboard(d.id).await.unwrap(),
        d,
        "a dashboard keeps its widgets of deleted queries (they show as missing)"
    );

    // A workflow takes its runs.
    let w = workflow(t.id, keep.id, kept_q.id, None);
    store.insert_workflow(&w).await.unwrap();
    let run = workflow_run(&w, RunTrigger::Manual, None, "i1");
    store.insert_workflow_run(&run).await.unwrap();
    store.delete_workflow(w.id).await.unwrap();
    assert!(matches!(
        store.get_workflow_run(run.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_workflow(w.id).await,
        Err(StoreError::NotFound)
    ));

    // A team takes everything of its own.
    let other = team("Other");
    store.insert_team(&other, None).await.unwrap();
    let oc = connection(other.id, "theirs");
    store.insert_connection(&oc).await.unwrap();
    let oq = saved_query(other.id, oc.id, "theirs", &[]);
    store.insert_saved_query(&oq).await.unwrap();
    let od = dashboard(other.id, oq.id);
    store.insert_dashboard(&od).await.unwrap();
    let ow = workflow(other.id, oc.id, oq.id, Some(5));
    store.insert_workflow(&ow).await.unwrap();
    let orun = workflow_run(&ow, RunTrigger::Manual, None, "i1");
    store.insert_workflow_run(&orun).await.unwrap();
    let oa = assistant(other.id, oc.id, "theirs");
    store.insert_assistant(&oa).await.unwrap();
    store.delete_team(other.id).await.unwrap();
    assert!(matches!(
        store.get_saved_query(oq.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_dashboard(od.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_workflow(ow.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_workflow_run(orun.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_assistant(oa.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_dashboard(d.id).await.unwrap(), d);
}

/// Workflows round-trip their schedule and steps, update (next_run_at too), page, and
/// list what is due, oldest slot first.
pub async fn workflows_round_trip_update_and_due(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    store.insert_saved_query(&q).await.unwrap();
    let w = workflow(t.id, c.id, q.id, Some(500));
    store.insert_workflow(&w).await.unwrap();
    assert_eq!(store.get_workflow(w.id).await.unwrap(), w);
    let manual = Workflow {
        description: None,
        schedule: None,
        next_run_at: None,
        enabled: false,
        ..workflow(t.id, c.id, q.id, None)
    };
    store.insert_workflow(&manual).await.unwrap();
    assert_eq!(store.get_workflow(manual.id).await.unwrap(), manual);
    let earlier = workflow(t.id, c.id, q.id, Some(100));
    store.insert_workflow(&earlier).await.unwrap();
    let disabled = Workflow {
        enabled: false,
        ..workflow(t.id, c.id, q.id, Some(50))
    };
    store.insert_workflow(&disabled).await.unwrap();
    let later = workflow(t.id, c.id, q.id, Some(10_000));
    store.insert_workflow(&later).await.unwrap();

    let due = store.due_workflows(500, 10).await.unwrap();
    assert_eq!(ids(&due, |w| w.id), ids(&[earlier.id, w.id], |i| *i));
    assert_eq!(store.due_workflows(500, 1).await.unwrap()[0].id, earlier.id);
    assert!(store.due_workflows(99, 10).await.unwrap().is_empty());

    let changed = Workflow {
        name: "Renamed".into(),
        enabled: false,
        schedule: None,
        steps: vec![WorkflowStep::Webhook {
            url: "https://example.com/y".into(),
        }],
        next_run_at: None,
        updated_at: 7_000,
        ..w.clone()
    };
    store.update_workflow(&changed).await.unwrap();
    assert_eq!(store.get_workflow(w.id).await.unwrap(), changed);
    assert_eq!(
        ids(&store.due_workflows(500, 10).await.unwrap(), |w| w.id),
        vec![earlier.id.to_string()]
    );
    assert!(matches!(
        store
            .update_workflow(&workflow(t.id, c.id, q.id, None))
            .await,
        Err(StoreError::NotFound)
    ));

    let all = store
        .list_workflows(&[t.id], &Page::first(10))
        .await
        .unwrap();
    let mut expected = ids(&[w.id, manual.id, earlier.id, disabled.id, later.id], |i| {
        *i
    });
    expected.sort();
    assert_eq!(ids(&all, |w| w.id), expected);
    let rest = store
        .list_workflows(
            &[t.id],
            &Page {
                after: Some(expected[2].clone()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&rest, |w| w.id), expected[3..]);
}

/// A slot is claimed once: the compare-and-set moves `next_run_at` and inserts the run;
/// a second claim of the same slot, a stale slot, a disabled workflow or a slot that
/// already has a run writes nothing.
pub async fn a_workflow_slot_is_claimed_once(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    store.insert_saved_query(&q).await.unwrap();
    let w = workflow(t.id, c.id, q.id, Some(1_000));
    store.insert_workflow(&w).await.unwrap();

    let run = workflow_run(&w, RunTrigger::Schedule, Some(1_000), "i1");
    assert!(
        store
            .claim_workflow_slot(w.id, 1_000, Some(2_000), &run)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_workflow(w.id).await.unwrap().next_run_at,
        Some(2_000)
    );
    assert_eq!(store.get_workflow_run(run.id).await.unwrap(), run);
    let again = workflow_run(&w, RunTrigger::Schedule, Some(1_000), "i2");
    assert!(
        !store
            .claim_workflow_slot(w.id, 1_000, Some(2_000), &again)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.get_workflow_run(again.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_workflow(w.id).await.unwrap().next_run_at,
        Some(2_000)
    );

    // The unique (workflow, slot) backs the compare-and-set up: a slot whose run exists is
    // not claimed again even when next_run_at was put back on it, and nothing moves.
    let mut back = store.get_workflow(w.id).await.unwrap();
    back.next_run_at = Some(1_000);
    store.update_workflow(&back).await.unwrap();
    let dup = workflow_run(&w, RunTrigger::Schedule, Some(1_000), "i3");
    assert!(
        !store
            .claim_workflow_slot(w.id, 1_000, Some(2_000), &dup)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_workflow(w.id).await.unwrap().next_run_at,
        Some(1_000),
        "rolled back"
    );
    assert!(matches!(
        store.get_workflow_run(dup.id).await,
        Err(StoreError::NotFound)
    ));

    // A disabled workflow is not claimed; an unknown one neither.
    back.enabled = false;
    store.update_workflow(&back).await.unwrap();
    let r = workflow_run(&w, RunTrigger::Schedule, Some(1_000), "i1");
    assert!(
        !store
            .claim_workflow_slot(w.id, 1_000, None, &r)
            .await
            .unwrap()
    );
    let unknown = workflow_run(&w, RunTrigger::Schedule, Some(1), "i1");
    assert!(
        !store
            .claim_workflow_slot(WorkflowId::new(), 1, None, &unknown)
            .await
            .unwrap()
    );

    // The last slot: next_run_at becomes None.
    back.enabled = true;
    back.next_run_at = Some(3_000);
    store.update_workflow(&back).await.unwrap();
    let last = workflow_run(&w, RunTrigger::Schedule, Some(3_000), "i1");
    assert!(
        store
            .claim_workflow_slot(w.id, 3_000, None, &last)
            .await
            .unwrap()
    );
    assert_eq!(store.get_workflow(w.id).await.unwrap().next_run_at, None);

    // Eight concurrent claimers of one slot: exactly one wins, one run exists.
    back.next_run_at = Some(4_000);
    store.update_workflow(&back).await.unwrap();
    let won = claim_concurrently(std::slice::from_ref(&store), &w, 4_000, 8).await;
    assert_eq!(won, 1);
    assert_eq!(slot_runs(&store, &w, 4_000).await, 1);
}

/// `claimers` tasks (spread over `stores`) claim the same slot at once; returns how many won.
async fn claim_concurrently(stores: &[Store], w: &Workflow, slot: i64, claimers: usize) -> usize {
    let barrier = Arc::new(tokio::sync::Barrier::new(claimers));
    let tasks: Vec<_> = (0..claimers)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            let barrier = barrier.clone();
            let run = workflow_run(w, RunTrigger::Schedule, Some(slot), &format!("i{i}"));
            let id = w.id;
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .claim_workflow_slot(id, slot, Some(slot + 1_000), &run)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    won
}

async fn slot_runs(store: &Store, w: &Workflow, slot: i64) -> usize {
    store
        .list_workflow_runs(w.id, &Page::first(1_000))
        .await
        .unwrap()
        .iter()
        .filter(|r| r.scheduled_for == Some(slot))
        .count()
}

/// A run is written only by its lease's holder and only while open; an abandoned run is
/// failed and its old holder's writes are refused. Runs page newest first.
pub async fn workflow_runs_are_written_under_their_lease(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    store.insert_saved_query(&q).await.unwrap();
    let w = workflow(t.id, c.id, q.id, None);
    store.insert_workflow(&w).await.unwrap();
    let now = now_millis();

    let mut run = workflow_run(&w, RunTrigger::Manual, None, "i1");
    run.lease_expires_at = Some(now + 1_000);
    store.insert_workflow_run(&run).await.unwrap();
    assert_eq!(store.get_workflow_run(run.id).await.unwrap(), run);

    run.status = WorkflowRunStatus::Running;
    run.started_at = Some(now);
    run.steps = vec![StepResult {
        kind: "run_query".into(),
        status: "succeeded".into(),
        output_summary: Some("42 rows".into()),
        error: None,
        duration_ms: 15,
    }];
    run.lease_expires_at = Some(now + 2_000);
    assert!(store.update_workflow_run(&run).await.unwrap());
    assert_eq!(store.get_workflow_run(run.id).await.unwrap(), run);

    let mut thief = run.clone();
    thief.lease_owner = Some("i2".into());
    thief.status = WorkflowRunStatus::Succeeded;
    assert!(!store.update_workflow_run(&thief).await.unwrap());
    assert_eq!(store.get_workflow_run(run.id).await.unwrap(), run);

    // Another run, still leased: not abandoned.
    let mut live = workflow_run(&w, RunTrigger::Manual, None, "i3");
    live.lease_expires_at = Some(now + 10_000);
    store.insert_workflow_run(&live).await.unwrap();
    // A finished run past its lease: not touched either.
    let mut done = workflow_run(&w, RunTrigger::Manual, None, "i4");
    done.status = WorkflowRunStatus::Succeeded;
    done.lease_expires_at = Some(now - 10_000);
    store.insert_workflow_run(&done).await.unwrap();

    let n = store
        .fail_abandoned_workflow_runs(now + 5_000, "the instance running it stopped")
        .await
        .unwrap();
    assert_eq!(n, 1);
    let failed = store.get_workflow_run(run.id).await.unwrap();
    assert_eq!(failed.status, WorkflowRunStatus::Failed);
    assert_eq!(failed.finished_at, Some(now + 5_000));
    assert_eq!(
        failed.error.as_deref(),
        Some("the instance running it stopped")
    );
    assert_eq!(store.get_workflow_run(live.id).await.unwrap(), live);
    assert_eq!(store.get_workflow_run(done.id).await.unwrap(), done);
    run.status = WorkflowRunStatus::Succeeded;
    assert!(
        !store.update_workflow_run(&run).await.unwrap(),
        "the old holder's final write is refused"
    );
    assert_eq!(store.get_workflow_run(run.id).await.unwrap(), failed);
    assert_eq!(
        store
            .fail_abandoned_workflow_runs(now + 5_000, "again")
            .await
            .unwrap(),
        0
    );

    // The holder finishes its run; afterwards the run is closed.
    live.status = WorkflowRunStatus::Succeeded;
    live.finished_at = Some(now + 1);
    assert!(store.update_workflow_run(&live).await.unwrap());
    assert!(!store.update_workflow_run(&live).await.unwrap());

    assert!(matches!(
        store
            .update_workflow_run(&workflow_run(&w, RunTrigger::Manual, None, "i1"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_workflow_run(WorkflowRunId::new()).await,
        Err(StoreError::NotFound)
    ));

    // Newest first; `after` pages to older ones.
    let all = store
        .list_workflow_runs(w.id, &Page::first(10))
        .await
        .unwrap();
    assert_eq!(
        ids(&all, |r| r.id),
        ids(&[done.id, live.id, run.id], |i| *i)
    );
    let older = store
        .list_workflow_runs(
            w.id,
            &Page {
                after: Some(live.id.to_string()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&older, |r| r.id), vec![run.id.to_string()]);
}

/// Questions round-trip; claims take the oldest pending ones, each once, even with four
/// concurrent claimers.
pub async fn questions_are_claimed_once_each(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let a = assistant(t.id, c.id, "helper");
    store.insert_assistant(&a).await.unwrap();
    let full = AsyncQuestion {
        provider: Some("openai-main".into()),
        assistant_id: Some(a.id),
        state: QuestionState::Completed,
        attempts: 2,
        lease_owner: Some("i9".into()),
        lease_expires_at: Some(77),
        results: Some(QuestionResults {
            sql: "SELECT 1".into(),
            result: result_set(1),
            stats: json!({"n": {"count": 3, "nulls": 1}}),
            summary: "One row.".into(),
        }),
        error_code: Some(ErrorCode::ProviderError),
        error_detail: Some("twice".into()),
        started_at: Some(5),
        finished_at: Some(6),
        ..question(t.id, c.id, 1)
    };
    store.insert_question(&full).await.unwrap();
    assert_eq!(store.get_question(full.id).await.unwrap(), full);
    assert!(matches!(
        store.get_question(QuestionId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .claim_questions("i1", 10, 20, 5)
            .await
            .unwrap()
            .is_empty()
    );

    // Oldest first, up to the limit.
    let older = question(t.id, c.id, 100);
    let newer = question(t.id, c.id, 200);
    store.insert_question(&newer).await.unwrap();
    store.insert_question(&older).await.unwrap();
    let now = now_millis();
    let got = store
        .claim_questions("i1", now, now + 30_000, 1)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.id, older.id);
    assert_eq!(g.state, QuestionState::InProgress);
    assert_eq!(g.lease_owner.as_deref(), Some("i1"));
    assert_eq!(g.lease_expires_at, Some(now + 30_000));
    assert_eq!(g.attempts, 1);
    assert_eq!(g.started_at, Some(now));
    assert_eq!(store.count_open_questions().await.unwrap(), (1, 1));
    let got = store
        .claim_questions("i2", now, now + 30_000, 10)
        .await
        .unwrap();
    assert_eq!(ids(&got, |q| q.id), vec![newer.id.to_string()]);
    assert_eq!(store.count_open_questions().await.unwrap(), (0, 2));

    claim_fifty_with_four(std::slice::from_ref(&store), t.id, c.id).await;
}

/// Inserts 50 questions, then four claimers (spread over `stores`) take batches until
/// none is left: every question is taken exactly once, by the owner its lease names.
async fn claim_fifty_with_four(stores: &[Store], team: TeamId, conn: ConnectionId) {
    let store = &stores[0];
    let base = now_millis();
    let mut expected = HashSet::new();
    for i in 0..50 {
        let q = question(team, conn, base + i);
        store.insert_question(&q).await.unwrap();
        expected.insert(q.id);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let owner = format!("claimer-{i}");
                barrier.wait().await;
                let mut mine = Vec::new();
                loop {
                    let now = now_millis();
                    let got = store
                        .claim_questions(&owner, now, now + 60_000, 3)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for q in got {
                        assert_eq!(q.lease_owner.as_deref(), Some(owner.as_str()));
                        assert_eq!(q.state, QuestionState::InProgress);
                        assert_eq!(q.attempts, 1);
                        mine.push(q.id);
                    }
                }
                mine
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.unwrap());
    }
    let distinct: HashSet<QuestionId> = seen.iter().copied().collect();
    assert_eq!(seen.len(), distinct.len(), "no question was taken twice");
    assert_eq!(distinct, expected, "every question was taken");
    let (pending, _) = store.count_open_questions().await.unwrap();
    assert_eq!(pending, 0);
}

/// Only the lease's holder renews or finishes a question; expired leases are requeued
/// while attempts remain, else failed as interrupted.
pub async fn questions_finish_and_recover_under_their_lease(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    let now = now_millis();
    let q = question(t.id, c.id, 1);
    store.insert_question(&q).await.unwrap();
    let mut got = store
        .claim_questions("i1", now, now + 1_000, 1)
        .await
        .unwrap();
    let mut done = got.pop().unwrap();

    assert!(
        store
            .renew_question_lease(q.id, "i1", now + 2_000)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_question(q.id).await.unwrap().lease_expires_at,
        Some(now + 2_000)
    );
    assert!(
        !store
            .renew_question_lease(q.id, "i2", now + 9_000)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.renew_question_lease(QuestionId::new(), "i1", 1).await,
        Err(StoreError::NotFound)
    ));

    done.state = QuestionState::Completed;
    done.results = Some(QuestionResults {
        sql: "SELECT count(*) FROM orders".into(),
        result: result_set(42),
        stats: json!({"n": {"min": 42, "max": 42}}),
        summary: "There are 42 orders.".into(),
    });
    done.finished_at = Some(now + 500);
    assert!(
        !store.finish_question(&done, "i2").await.unwrap(),
        "not the holder"
    );
    assert_eq!(
        store.get_question(q.id).await.unwrap().state,
        QuestionState::InProgress
    );
    assert!(store.finish_question(&done, "i1").await.unwrap());
    let stored = store.get_question(q.id).await.unwrap();
    assert_eq!(stored.state, QuestionState::Completed);
    assert_eq!(stored.results, done.results);
    assert_eq!(stored.finished_at, Some(now + 500));
    assert!(
        !store.finish_question(&done, "i1").await.unwrap(),
        "finished once"
    );
    assert!(
        !store
            .renew_question_lease(q.id, "i1", now + 9_000)
            .await
            .unwrap()
    );
    let mut ghost = done.clone();
    ghost.id = QuestionId::new();
    assert!(matches!(
        store.finish_question(&ghost, "i1").await,
        Err(StoreError::NotFound)
    ));

    // Recovery: two expired leases (one with attempts left, one without) and a live one.
    let retry = question(t.id, c.id, 2);
    let spent = question(t.id, c.id, 3);
    let live = question(t.id, c.id, 4);
    for x in [&retry, &spent, &live] {
        store.insert_question(x).await.unwrap();
    }
    let taken = store
        .claim_questions("i1", now, now + 1_000, 2)
        .await
        .unwrap();
    assert_eq!(ids(&taken, |q| q.id), ids(&[retry.id, spent.id], |i| *i));
    store
        .claim_questions("i2", now, now + 60_000, 1)
        .await
        .unwrap();
    // Both leases of i1 expired after one attempt each: requeued, then taken again.
    let (requeued, failed) = store
        .recover_questions(now + 1_001, 3, "stopped")
        .await
        .unwrap();
    assert_eq!((requeued, failed), (2, 0));
    let requeued_q = store.get_question(retry.id).await.unwrap();
    assert_eq!(requeued_q.state, QuestionState::Pending);
    assert_eq!(requeued_q.lease_owner, None);
    assert_eq!(requeued_q.lease_expires_at, None);
    assert_eq!(requeued_q.attempts, 1);
    let again = store
        .claim_questions("i3", now, now + 1_000, 2)
        .await
        .unwrap();
    assert_eq!(ids(&again, |q| q.id), ids(&[retry.id, spent.id], |i| *i));
    assert!(again.iter().all(|q| q.attempts == 2));
    assert!(
        !store
            .finish_question(&done_of(&again[0]), "i1")
            .await
            .unwrap(),
        "the first holder lost it"
    );
    assert_eq!(store.count_open_questions().await.unwrap(), (0, 3));

    // With max 2 attempts both expired questions fail; the live lease is untouched.
    let (requeued, failed) = store
        .recover_questions(now + 1_001, 2, "stopped twice")
        .await
        .unwrap();
    assert_eq!((requeued, failed), (0, 2));
    let f = store.get_question(spent.id).await.unwrap();
    assert_eq!(f.state, QuestionState::Failed);
    assert_eq!(f.error_code, Some(ErrorCode::Interrupted));
    assert_eq!(f.error_detail.as_deref(), Some("stopped twice"));
    assert_eq!(f.finished_at, Some(now + 1_001));
    assert_eq!(
        store.get_question(live.id).await.unwrap().state,
        QuestionState::InProgress
    );
    assert_eq!(store.count_open_questions().await.unwrap(), (0, 1));
    assert_eq!(
        store.recover_questions(now + 1_001, 2, "x").await.unwrap(),
        (0, 0)
    );
}

fn done_of(q: &AsyncQuestion) -> AsyncQuestion {
    AsyncQuestion {
        state: QuestionState::Failed,
        error_code: Some(ErrorCode::Internal),
        error_detail: Some("late".into()),
        finished_at: Some(1),
        ..q.clone()
    }
}

/// Two stores on one database (two server instances): a slot is claimed once and every
/// question is taken once.
async fn two_stores_share_claims(a: Store, b: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&a).await;
    let q = saved_query(t.id, c.id, "orders", &[]);
    a.insert_saved_query(&q).await.unwrap();
    let stores = [a.clone(), b.clone()];
    for slot in 1..=5 {
        let w = workflow(t.id, c.id, q.id, Some(slot * 10_000));
        a.insert_workflow(&w).await.unwrap();
        assert_eq!(claim_concurrently(&stores, &w, slot * 10_000, 8).await, 1);
        assert_eq!(slot_runs(&b, &w, slot * 10_000).await, 1);
    }
    claim_fifty_with_four(&stores, t.id, c.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_stores_share_claims() {
    crate::fixture::Backend::Sqlite
        .run_pair(two_stores_share_claims)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_stores_share_claims() {
    crate::fixture::Backend::Postgres
        .run_pair(two_stores_share_claims)
        .await;
}
