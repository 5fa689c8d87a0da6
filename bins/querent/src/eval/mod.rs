//! `querent eval`: execution accuracy of a provider on a text-to-SQL suite (design §7).
//!
//! A suite is a JSON Lines file (`questions.jsonl` in the suite directory) of
//! `{id, db, question, gold_sql: string | [string], difficulty?, category?, split?}` with the
//! SQLite databases in `db/<db>.sqlite` beside it — the format of `../shared/eval` — and,
//! optionally, semantic models in `models/<db>.json` (the JSON of
//! `PUT /api/v1/connections/{id}/semantic-model`), which are saved on that database's
//! connection before any question is asked, so a model's effect is measured the way users
//! meet it. Every question goes through the same service pipeline as `POST /api/v1/chat`
//! (schema, semantic model, provider, guard, read-only execution, message stored) on a
//! throw-away embedded store; the gold SQL runs directly on the same file (read-only), and
//! the two full results are compared with the rules of [`compare`]. A gold statement that
//! fails is a fault of the suite: the question is an `error` and the run reports it
//! ([`Report::gold_errors`]; the CLI exits non-zero).

#![allow(clippy::disallowed_methods)] // a CLI command: reads its suite files while nothing else runs on the runtime

pub mod compare;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use querent_app::chat::{ChatRequest, ChatResponse, Events, StageTimings};
use querent_app::connections::ConnectionRequest;
use querent_app::{Actor, App};
use querent_domain::chat::ChatOptions;
use querent_domain::{ConnectionId, MessageStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Config, build_app};

/// Rows a query may return during evaluation (gold answers can be long lists).
const EVAL_MAX_ROWS: u32 = 10_000;

/// What to evaluate.
#[derive(Clone, Debug)]
pub struct EvalArgs {
    /// The suite directory (with `questions.jsonl` and `db/`) or a `.jsonl` file.
    pub suite: PathBuf,
    /// Provider name (default: the server's default, `offline`).
    pub provider: Option<String>,
    /// A provider to register for the run, as the JSON body of `POST /api/v1/providers`
    /// (e.g. `{"name": "groq", "kind": "openai", "base_url": "…", "model": "…",
    /// "api_key": "…"}`); `provider` defaults to its name.
    pub provider_config: Option<String>,
    /// Which questions to ask (all by default).
    pub filter: Filter,
    /// At most this many questions (after the filter), in file order.
    pub limit: Option<usize>,
    /// Questions in flight at once.
    pub jobs: usize,
    /// How to show progress.
    pub progress: Progress,
    /// Apply the suite's semantic models (`models/<db>.json`); off to measure without them.
    pub models: bool,
}

/// How a run shows its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Hidden,
    /// A progress bar (on a terminal).
    Bar,
    /// A line on stderr now and then (logs, CI, a redirected run): every twentieth of the
    /// suite and at least every [`PROGRESS_EVERY`].
    Lines,
}

/// At most this long between two progress lines ([`Progress::Lines`]).
pub const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Which questions of a suite to ask: `key=value` conditions separated by commas, all of
/// which must hold; a value may list alternatives separated by `|`. Keys: `db`,
/// `difficulty`, `category`, `split` (e.g. `db=demo,difficulty=easy|medium,split=dev`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Databases (any).
    pub db: Vec<String>,
    /// Difficulties (any).
    pub difficulty: Vec<String>,
    /// Categories (any).
    pub category: Vec<String>,
    /// Splits (any).
    pub split: Vec<String>,
}

impl Filter {
    /// Parses `db=a|b,difficulty=easy,...`; an empty string keeps every question.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut f = Filter::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, values)) = part.split_once('=') else {
                return Err(format!(
                    "`{part}`: expected KEY=VALUE with KEY one of db, difficulty, category, split"
                ));
            };
            let values: Vec<String> = values
                .split('|')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err(format!("`{part}`: no value"));
            }
            let slot = match key.trim() {
                "db" => &mut f.db,
                "difficulty" => &mut f.difficulty,
                "category" => &mut f.category,
                "split" => &mut f.split,
                other => {
                    return Err(format!(
                        "unknown filter key `{other}`: use db, difficulty, category or split"
                    ));
                }
            };
            slot.extend(values);
        }
        Ok(f)
    }

    /// Whether `q` passes every condition (a question without the field fails a condition
    /// on it).
    pub fn keeps(&self, q: &Question) -> bool {
        let any = |wanted: &[String], have: Option<&str>| {
            wanted.is_empty() || have.is_some_and(|h| wanted.iter().any(|w| w == h))
        };
        any(&self.db, Some(&q.db))
            && any(&self.difficulty, q.difficulty.as_deref())
            && any(&self.category, q.category.as_deref())
            && any(&self.split, q.split.as_deref())
    }
}

/// One question of a suite.
#[derive(Clone, Debug, Deserialize)]
pub struct Question {
    /// Stable id.
    pub id: String,
    /// Database name (`db/<db>.sqlite`).
    pub db: String,
    /// The question.
    pub question: String,
    /// The gold SQL: one statement, or several acceptable ones.
    pub gold_sql: GoldSql,
    /// Spider hardness, when the suite has it.
    #[serde(default)]
    pub difficulty: Option<String>,
    /// Category, when the suite has it.
    #[serde(default)]
    pub category: Option<String>,
    /// Which part of the suite it belongs to (e.g. `dev` or `heldout`), when it has parts.
    #[serde(default)]
    pub split: Option<String>,
}

/// One gold statement or a list of acceptable ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum GoldSql {
    /// A single statement.
    One(String),
    /// Acceptable alternatives.
    Many(Vec<String>),
}

impl GoldSql {
    fn all(&self) -> Vec<&str> {
        match self {
            GoldSql::One(s) => vec![s.as_str()],
            GoldSql::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// How one question ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Same result as the gold.
    Correct,
    /// Ran, but the result differs.
    Wrong,
    /// The provider said it could not translate.
    CannotTranslate,
    /// The guard refused the SQL.
    Rejected,
    /// The SQL failed on the database, a gold statement failed, or anything else went
    /// wrong.
    Error,
}

/// The record of one question.
#[derive(Clone, Debug, Serialize)]
pub struct Graded {
    /// Question id.
    pub id: String,
    /// Database.
    pub db: String,
    /// The question.
    pub question: String,
    /// Difficulty, if any.
    pub difficulty: Option<String>,
    /// Category, if any.
    pub category: Option<String>,
    /// Split, if any.
    pub split: Option<String>,
    /// The outcome.
    pub outcome: Outcome,
    /// Whether a gold statement failed (the question is an `error` and the suite needs a fix).
    pub gold_failed: bool,
    /// The SQL the provider wrote.
    pub predicted_sql: Option<String>,
    /// The first gold statement.
    pub gold_sql: String,
    /// Why it failed (error message, or row counts for wrong answers).
    pub detail: Option<String>,
    /// Stage timings.
    #[serde(skip)]
    pub timings: StageTimings,
    /// Prompt and completion tokens the provider reported, and the estimated cost.
    #[serde(skip)]
    pub usage: (u64, u64, f64),
}

/// Counts for one group of questions.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Tally {
    /// Questions.
    pub n: usize,
    /// Correct answers.
    pub correct: usize,
    /// `correct / n`.
    pub accuracy: f64,
    /// Questions answered: every one but those the provider declined.
    pub answered: usize,
    /// `correct / answered`: how often an answer is right (0 when nothing was answered).
    pub precision: f64,
    /// Questions the provider declined.
    pub cannot_translate: usize,
    /// Wrong answers.
    pub wrong: usize,
    /// Guard rejections.
    pub rejected: usize,
    /// Execution and other errors.
    pub errors: usize,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        self.n += 1;
        match o {
            Outcome::Correct => self.correct += 1,
            Outcome::Wrong => self.wrong += 1,
            Outcome::CannotTranslate => self.cannot_translate += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Error => self.errors += 1,
        }
        self.answered = self.n - self.cannot_translate;
        self.accuracy = self.correct as f64 / self.n as f64;
        self.precision = if self.answered == 0 {
            0.0
        } else {
            self.correct as f64 / self.answered as f64
        };
    }
}

/// p50/p95 of a stage, in milliseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// How the schema linker does on the suite: the tables it links for each question against
/// the tables the gold SQL reads (parsed by the guard), and the prompt it saves.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LinkingMetrics {
    /// Questions measured (gold SQL the guard could parse).
    pub n: usize,
    /// Mean fraction of the gold tables among the linked ones.
    pub table_recall: f64,
    /// Mean fraction of the linked tables the gold reads.
    pub table_precision: f64,
    /// Fraction of questions with every gold table linked.
    pub full_recall: f64,
    /// Mean estimated prompt tokens with the linked schema over those with the whole schema.
    pub prompt_tokens_ratio: f64,
    /// Mean time to link one question, in microseconds (index built once per database).
    pub link_us: f64,
}

/// Token totals.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

/// The report (`--json` writes it as is; the layout follows design §7).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The suite path.
    pub suite: String,
    /// The provider.
    pub provider: String,
    /// All questions.
    pub overall: Tally,
    /// Per difficulty (Spider hardness).
    pub by_difficulty: BTreeMap<String, Tally>,
    /// Per category (Defog).
    pub by_category: BTreeMap<String, Tally>,
    /// Per database.
    pub by_db: BTreeMap<String, Tally>,
    /// Per split (`dev`, `heldout`), for suites whose questions carry one.
    pub by_split: BTreeMap<String, Tally>,
    /// Questions whose gold SQL failed (counted as errors; the suite needs a fix).
    pub gold_errors: usize,
    /// Databases whose semantic model (`models/<db>.json`) was applied.
    pub models: Vec<String>,
    /// Schema-linking metrics: how well the linker picks the tables the gold SQL reads.
    pub linking: Option<LinkingMetrics>,
    /// Per-stage latency.
    pub latency_ms: BTreeMap<String, Percentiles>,
    /// Tokens the provider reported over the run (zero for the offline translator).
    pub tokens: Tokens,
    /// Estimated cost over the run, in US dollars (providers with prices configured).
    pub cost_usd: f64,
    /// Wall time of the whole run, in seconds.
    pub wall_secs: f64,
    /// Every question's record (not in the JSON report; see `--failures`).
    #[serde(skip)]
    pub graded: Vec<Graded>,
}

/// Reads a suite: the questions and the directory of its databases.
pub fn load_suite(path: &Path) -> Result<(Vec<Question>, PathBuf), String> {
    let (file, dir) = if path.is_dir() {
        (path.join("questions.jsonl"), path.to_path_buf())
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (path.to_path_buf(), dir)
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut questions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        questions.push(
            serde_json::from_str::<Question>(line)
                .map_err(|e| format!("{}:{}: {e}", file.display(), i + 1))?,
        );
    }
    Ok((questions, dir.join("db")))
}

/// Runs a statement on a database file, read-only, and returns every row.
fn run_gold(db: &Path, sql: &str) -> Result<compare::Rows, String> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let width = stmt.column_count();
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => json!(n),
                ValueRef::Real(f) => json!(f),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::String(format!("{b:02x?}")),
            });
        }
        out.push(values);
    }
    Ok(out)
}

/// Runs every gold statement of `q`; the first failure is the suite's fault.
fn run_golds(q: &Question, db: &Path) -> Result<Vec<(String, compare::Rows)>, String> {
    q.gold_sql
        .all()
        .into_iter()
        .map(|gold| {
            run_gold(db, gold)
                .map(|rows| (gold.to_owned(), rows))
                .map_err(|e| format!("the gold SQL failed: {e} (in `{gold}`)"))
        })
        .collect()
}

/// How one question was graded.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// The outcome.
    pub outcome: Outcome,
    /// Why it is not correct.
    pub detail: Option<String>,
    /// Whether a gold statement failed.
    pub gold_failed: bool,
}

/// Grades a response against the gold: first the gold statements run (one that fails makes
/// the question an `error` whatever the prediction); then the prediction's full result —
/// the rows of the answer, or, when the answer holds only part of them (a preview, or a
/// limit cut it short), the predicted SQL run again on the file — is compared with each.
pub fn grade(q: &Question, response: &ChatResponse, db: &Path) -> Grade {
    let grade = |outcome, detail| Grade {
        outcome,
        detail,
        gold_failed: false,
    };
    let golds = match run_golds(q, db) {
        Ok(golds) => golds,
        Err(e) => {
            return Grade {
                outcome: Outcome::Error,
                detail: Some(e),
                gold_failed: true,
            };
        }
    };
    match response.status {
        MessageStatus::Executed | MessageStatus::Cached => {}
        _ => {
            let (code, detail) = response
                .error
                .as_ref()
                .map(|e| (e.code.as_str(), e.detail.clone()))
                .unwrap_or(("", format!("status {}", response.status)));
            let outcome = match code {
                "cannot_translate" => Outcome::CannotTranslate,
                "guard_rejected" | "policy_violation" => Outcome::Rejected,
                _ => Outcome::Error,
            };
            return grade(outcome, Some(detail));
        }
    }
    let Some(results) = &response.results else {
        return grade(Outcome::Error, Some("no results".into()));
    };
    let full;
    let predicted = if results.preview || results.truncated {
        // Not every row is in the answer: grade the whole result of the same SQL.
        let Some(sql) = &response.query else {
            return grade(Outcome::Error, Some("a partial result and no SQL".into()));
        };
        match run_gold(db, sql) {
            Ok(rows) => {
                full = rows;
                &full
            }
            Err(e) => {
                return grade(
                    Outcome::Error,
                    Some(format!("the predicted SQL failed when run again: {e}")),
                );
            }
        }
    } else {
        &results.rows
    };
    let mut detail = None;
    for (gold, rows) in &golds {
        if compare::same_result(rows, predicted, compare::is_ordered(gold)) {
            return grade(Outcome::Correct, None);
        }
        detail.get_or_insert_with(|| {
            format!(
                "gold returned {} rows x {} columns, prediction {} rows x {} columns",
                rows.len(),
                rows.first().map_or(0, Vec::len),
                predicted.len(),
                predicted.first().map_or(results.columns.len(), Vec::len)
            )
        });
    }
    grade(Outcome::Wrong, detail)
}

/// The progress line of [`Progress::Lines`].
pub fn progress_line(done: usize, total: usize, correct: usize, elapsed_secs: f64) -> String {
    format!(
        "eval: {done}/{total} questions ({:.0}%), {:.1}% correct so far, {elapsed_secs:.0} s",
        100.0 * done as f64 / total.max(1) as f64,
        100.0 * correct as f64 / done.max(1) as f64,
    )
}

/// Whether [`Progress::Lines`] prints after `done` of `total` questions, `since` the last
/// line: at every twentieth of the suite, at the end, and when [`PROGRESS_EVERY`] passed.
pub fn progress_due(done: usize, total: usize, since: std::time::Duration) -> bool {
    let step = total.div_ceil(20).max(1);
    done == total || done.is_multiple_of(step) || since >= PROGRESS_EVERY
}

/// Saves the suite's semantic models (`models/<db>.json`) on the connections of their
/// databases; returns the databases that have one.
async fn apply_models(
    app: &App,
    actor: &Actor,
    models_dir: &Path,
    connections: &BTreeMap<String, ConnectionId>,
) -> Result<Vec<String>, String> {
    let mut applied = Vec::new();
    for (name, id) in connections {
        let path = models_dir.join(format!("{name}.json"));
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut body: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        // A model as GET returns it describes another server's connection: its read-only
        // fields are dropped, and it is saved as the first version.
        if let Some(o) = body.as_object_mut() {
            for key in [
                "connection_id",
                "version",
                "schema_fingerprint",
                "updated_at",
            ] {
                o.remove(key);
            }
        }
        let req: querent_app::semantic::SemanticModelRequest =
            serde_json::from_value(body).map_err(|e| format!("{}: {e}", path.display()))?;
        app.put_semantic_model(actor, *id, req)
            .await
            .map_err(|e| format!("{}: {}", path.display(), e.detail))?;
        applied.push(name.clone());
    }
    Ok(applied)
}

fn percentiles(mut v: Vec<u64>) -> Percentiles {
    if v.is_empty() {
        return Percentiles::default();
    }
    v.sort_unstable();
    let at = |p: f64| {
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i] as f64 / 1000.0
    };
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
    }
}

async fn register_databases(
    app: &App,
    actor: &Actor,
    db_dir: &Path,
    names: &[String],
) -> Result<BTreeMap<String, ConnectionId>, String> {
    let mut ids = BTreeMap::new();
    for name in names {
        let path = db_dir.join(format!("{name}.sqlite"));
        let path = path
            .canonicalize()
            .map_err(|e| format!("database {}: {e}", path.display()))?;
        let req: ConnectionRequest = serde_json::from_value(json!({
            "name": name,
            "dialect": "sqlite",
            "path": path.display().to_string(),
            "config": {"statement_timeout_ms": 30_000, "max_rows": EVAL_MAX_ROWS},
        }))
        .map_err(|e| e.to_string())?;
        let view = app
            .create_connection(actor, req)
            .await
            .map_err(|e| format!("database {name}: {}", e.detail))?;
        ids.insert(name.clone(), view.id);
    }
    Ok(ids)
}

/// Runs a suite and returns the report.
#[allow(clippy::too_many_lines)] // the eval run's steps in order; each step is a call
pub async fn run(args: &EvalArgs) -> Result<Report, String> {
    let started = Instant::now();
    let (mut questions, db_dir) = load_suite(&args.suite)?;
    questions.retain(|q| args.filter.keeps(q));
    if let Some(n) = args.limit {
        questions.truncate(n);
    }
    if questions.is_empty() {
        return Err("no questions to evaluate (check --suite and --filter)".into());
    }

    // A throw-away server state: embedded store, fresh key, no demo; the suite's database
    // folder is the SQLite directory its connections may use.
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = Config {
        data_dir: tmp.path().to_path_buf(),
        sqlite_dirs: vec![db_dir.clone()],
        demo: false,
        database_url: None,
        master_key: None,
        server_max_rows: EVAL_MAX_ROWS,
        ..Config::default()
    };
    let parts = build_app(&config, None).await?;
    let app = parts.app.clone();
    app.setup(
        querent_app::auth::SetupRequest {
            username: "eval".into(),
            password: querent_app::Secret::new("evaluation-only-password".into()),
            email: None,
        },
        None,
    )
    .await
    .map_err(|e| e.detail)?;
    let actor = app.local_actor(None).await.map_err(|e| e.detail)?;
    let mut provider = args.provider.clone();
    if let Some(json) = &args.provider_config {
        let req: querent_app::providers::ProviderRequest =
            serde_json::from_str(json).map_err(|e| format!("--provider-config: {e}"))?;
        let created = app
            .create_provider(&actor, req)
            .await
            .map_err(|e| format!("--provider-config: {}", e.detail))?;
        provider.get_or_insert(created.name);
    }
    let mut names: Vec<String> = questions.iter().map(|q| q.db.clone()).collect();
    names.sort();
    names.dedup();
    let connections = register_databases(&app, &actor, &db_dir, &names).await?;
    let models = if args.models {
        let models_dir = db_dir
            .parent()
            .map_or_else(|| PathBuf::from("models"), |d| d.join("models"));
        apply_models(&app, &actor, &models_dir, &connections).await?
    } else {
        Vec::new()
    };

    let total = questions.len();
    let bar = if args.progress == Progress::Bar {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let lines = (args.progress == Progress::Lines)
        .then(|| Arc::new(std::sync::Mutex::new((0usize, Instant::now()))));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} {elapsed_precise} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let correct = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let db_dir = Arc::new(db_dir);
    let graded_questions = questions.clone();
    let graded: Vec<Graded> = futures_util::stream::iter(questions)
        .map(|q| {
            let app = app.clone();
            let actor = actor.clone();
            let conn = connections[&q.db];
            let db_dir = Arc::clone(&db_dir);
            let provider = provider.clone();
            let bar = bar.clone();
            let correct = Arc::clone(&correct);
            let lines = lines.clone();
            async move {
                let db = db_dir.join(format!("{}.sqlite", q.db));
                let request = ChatRequest {
                    connection_id: conn,
                    session_id: None,
                    message: q.question.clone(),
                    provider,
                    options: ChatOptions {
                        show_query: true,
                        max_rows: EVAL_MAX_ROWS,
                        explain_results: false,
                        // Accuracy is the provider's: never answer from the cache.
                        use_cache: false,
                        statistics: false,
                    },
                };
                let (graded, sql, timings) = match app.prepare_chat(&actor, request).await {
                    Ok(prepared) => {
                        let (response, timings) =
                            app.run_chat_timed(prepared, Events::none()).await;
                        let q2 = q.clone();
                        let r2 = response.clone();
                        let graded = tokio::task::spawn_blocking(move || grade(&q2, &r2, &db))
                            .await
                            .unwrap_or(Grade {
                                outcome: Outcome::Error,
                                detail: Some("grading panicked".into()),
                                gold_failed: false,
                            });
                        // Tokens and cost are kept on the stored message.
                        let usage = app
                            .get_session(&actor, response.session_id)
                            .await
                            .ok()
                            .and_then(|s| s.messages.into_iter().next())
                            .map(|m| {
                                (
                                    m.prompt_tokens.max(0) as u64,
                                    m.completion_tokens.max(0) as u64,
                                    m.cost_usd.unwrap_or(0.0),
                                )
                            })
                            .unwrap_or_default();
                        (graded, response.query, (timings, usage))
                    }
                    Err(e) => {
                        // The gold is checked even when the question could not be asked.
                        let q2 = q.clone();
                        let gold = tokio::task::spawn_blocking(move || run_golds(&q2, &db))
                            .await
                            .unwrap_or_else(|_| Err("grading panicked".into()));
                        let graded = Grade {
                            outcome: Outcome::Error,
                            gold_failed: gold.is_err(),
                            detail: Some(gold.err().unwrap_or(e.detail)),
                        };
                        (graded, None, (StageTimings::default(), (0, 0, 0.0)))
                    }
                };
                let (timings, usage) = timings;
                let Grade {
                    outcome,
                    detail,
                    gold_failed,
                } = graded;
                if outcome == Outcome::Correct {
                    correct.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                bar.inc(1);
                let done = bar.position().max(1);
                let right = correct.load(std::sync::atomic::Ordering::Relaxed);
                bar.set_message(format!(
                    "{:.1}% correct",
                    100.0 * right as f64 / done as f64
                ));
                if let Some(lines) = &lines
                    && let Ok(mut state) = lines.lock()
                {
                    state.0 += 1;
                    let (finished, last) = *state;
                    if progress_due(finished, total, last.elapsed()) {
                        state.1 = Instant::now();
                        eprintln!(
                            "{}",
                            progress_line(finished, total, right, started.elapsed().as_secs_f64())
                        );
                    }
                }
                Graded {
                    id: q.id.clone(),
                    db: q.db.clone(),
                    question: q.question.clone(),
                    difficulty: q.difficulty.clone(),
                    category: q.category.clone(),
                    split: q.split.clone(),
                    outcome,
                    gold_failed,
                    predicted_sql: sql,
                    gold_sql: q.gold_sql.all().first().copied().unwrap_or("").to_owned(),
                    detail,
                    timings,
                    usage,
                }
            }
        })
        .buffered(args.jobs.max(1))
        .collect()
        .await;
    bar.finish_and_clear();

    let mut report = Report {
        suite: args.suite.display().to_string(),
        provider: provider.clone().unwrap_or_else(|| "offline".into()),
        overall: Tally::default(),
        by_difficulty: BTreeMap::new(),
        by_category: BTreeMap::new(),
        by_db: BTreeMap::new(),
        by_split: BTreeMap::new(),
        gold_errors: 0,
        models,
        linking: None,
        latency_ms: BTreeMap::new(),
        tokens: Tokens::default(),
        cost_usd: 0.0,
        wall_secs: 0.0,
        graded: Vec::new(),
    };
    for g in &graded {
        report.tokens.prompt += g.usage.0;
        report.tokens.completion += g.usage.1;
        report.cost_usd += g.usage.2;
        report.overall.add(g.outcome);
        if let Some(d) = &g.difficulty {
            report
                .by_difficulty
                .entry(d.clone())
                .or_default()
                .add(g.outcome);
        }
        if let Some(c) = &g.category {
            report
                .by_category
                .entry(c.clone())
                .or_default()
                .add(g.outcome);
        }
        if let Some(s) = &g.split {
            report.by_split.entry(s.clone()).or_default().add(g.outcome);
        }
        report.by_db.entry(g.db.clone()).or_default().add(g.outcome);
        report.gold_errors += usize::from(g.gold_failed);
    }
    let stage =
        |f: fn(&StageTimings) -> u64| percentiles(graded.iter().map(|g| f(&g.timings)).collect());
    report
        .latency_ms
        .insert("linking".into(), stage(|t| t.linking_us));
    report
        .latency_ms
        .insert("generating".into(), stage(|t| t.generating_us));
    report
        .latency_ms
        .insert("validating".into(), stage(|t| t.validating_us));
    report
        .latency_ms
        .insert("executing".into(), stage(|t| t.executing_us));
    report
        .latency_ms
        .insert("total".into(), stage(|t| t.total_us));
    report.linking = Some(linking_metrics(&app, &actor, &connections, &graded_questions).await?);
    report.wall_secs = started.elapsed().as_secs_f64();
    report.graded = graded;
    Ok(report)
}

/// Links every question with querent-semantic (and the database's semantic model, when the
/// suite applied one) and compares with the gold tables.
async fn linking_metrics(
    app: &App,
    actor: &Actor,
    connections: &BTreeMap<String, ConnectionId>,
    questions: &[Question],
) -> Result<LinkingMetrics, String> {
    use querent_sql::{GuardPolicy, GuardSchema};
    let mut by_db: BTreeMap<
        &str,
        (
            Arc<querent_domain::schema::SchemaSnapshot>,
            querent_semantic::LinkIndex,
            GuardSchema,
        ),
    > = BTreeMap::new();
    for (name, id) in connections {
        let snap = app.get_schema(actor, *id).await.map_err(|e| e.detail)?;
        // With the connection's semantic model, as the chat pipeline links.
        let model = app.semantic_model_for(*id).await.map_err(|e| e.detail)?;
        let index = querent_semantic::LinkIndex::new_with_model(
            &snap,
            &querent_domain::PrivacyPolicy::default(),
            model.as_deref(),
        );
        let guard = GuardSchema::from_snapshot(&snap);
        by_db.insert(name.as_str(), (Arc::new(snap), index, guard));
    }
    let policy = GuardPolicy {
        max_rows: Some(u64::from(EVAL_MAX_ROWS)),
        ..Default::default()
    };
    let budget = querent_llm::PromptBudget {
        max_prompt_tokens: usize::MAX,
    };
    let mut m = LinkingMetrics::default();
    let (mut recall, mut precision, mut full, mut ratio, mut us) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for q in questions {
        let Some((snap, index, guard)) = by_db.get(q.db.as_str()) else {
            continue;
        };
        let gold = q.gold_sql.all()[0];
        let Ok(validated) = querent_sql::validate(snap.dialect, gold, guard, &policy) else {
            continue;
        };
        let gold_tables: Vec<String> = validated
            .tables()
            .iter()
            .map(|t| t.to_lowercase())
            .collect();
        if gold_tables.is_empty() {
            continue;
        }
        let t = Instant::now();
        let linked = index.link(&q.question, &querent_semantic::LinkOptions::default());
        us += t.elapsed().as_secs_f64() * 1e6;
        let names: Vec<String> = linked
            .table_indexes()
            .into_iter()
            .map(|i| snap.tables[i].name.to_lowercase())
            .collect();
        let hits = gold_tables.iter().filter(|g| names.contains(g)).count();
        recall += hits as f64 / gold_tables.len() as f64;
        precision += if names.is_empty() {
            0.0
        } else {
            names.iter().filter(|n| gold_tables.contains(n)).count() as f64 / names.len() as f64
        };
        full += f64::from(u8::from(hits == gold_tables.len()));
        let request = |schema: Arc<querent_domain::schema::SchemaSnapshot>| {
            querent_domain::query::GenerateRequest {
                question: q.question.clone(),
                dialect: snap.dialect,
                schema,
                policy: Default::default(),
                history: Vec::new(),
                previous_error: None,
                max_rows: 100,
                semantic: None,
                examples: Vec::new(),
                instructions: None,
            }
        };
        let whole = querent_llm::render(&request(Arc::clone(snap)), &budget).estimated_tokens;
        let part = querent_llm::render(
            &request(Arc::new(querent_semantic::subset(snap, &linked))),
            &budget,
        )
        .estimated_tokens;
        ratio += part as f64 / whole.max(1) as f64;
        m.n += 1;
    }
    if m.n > 0 {
        let n = m.n as f64;
        m.table_recall = recall / n;
        m.table_precision = precision / n;
        m.full_recall = full / n;
        m.prompt_tokens_ratio = ratio / n;
        m.link_us = us / n;
    }
    Ok(m)
}

fn tally_rows(title: &str, groups: &BTreeMap<String, Tally>, overall: &Tally) -> Vec<Vec<String>> {
    let order = ["easy", "medium", "hard", "extra", "dev", "heldout"];
    let mut keys: Vec<&String> = groups.keys().collect();
    keys.sort_by_key(|k| {
        (
            order.iter().position(|o| o == k).unwrap_or(order.len()),
            (*k).clone(),
        )
    });
    let row = |name: &str, t: &Tally| {
        vec![
            name.to_owned(),
            t.n.to_string(),
            t.correct.to_string(),
            format!("{:.1}%", 100.0 * t.accuracy),
            format!("{:.1}%", 100.0 * t.precision),
            t.cannot_translate.to_string(),
            t.wrong.to_string(),
            t.rejected.to_string(),
            t.errors.to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = keys.into_iter().map(|k| row(k, &groups[k])).collect();
    rows.push(row(title, overall));
    rows
}

const HEADER: [&str; 9] = [
    "group",
    "n",
    "correct",
    "accuracy",
    "precision",
    "cannot_translate",
    "wrong",
    "rejected",
    "errors",
];

impl Report {
    /// The groupings the report shows, each with its title: difficulty, category and
    /// split, those the suite has.
    fn groupings(&self) -> Vec<(&'static str, &BTreeMap<String, Tally>)> {
        [
            ("difficulty", &self.by_difficulty),
            ("category", &self.by_category),
            ("split", &self.by_split),
        ]
        .into_iter()
        .filter(|(_, g)| !g.is_empty())
        .collect()
    }

    fn linking_line(&self) -> String {
        match &self.linking {
            Some(l) => format!(
                "schema linking: table recall {:.3}, precision {:.3}, full recall {:.1}% of {} questions, prompt tokens {:.0}% of the whole schema, {:.0} µs per question",
                l.table_recall,
                l.table_precision,
                100.0 * l.full_recall,
                l.n,
                100.0 * l.prompt_tokens_ratio,
                l.link_us
            ),
            None => "schema linking: not measured".to_owned(),
        }
    }

    fn headline(&self) -> String {
        let o = &self.overall;
        let mut line = format!(
            "{} questions: accuracy {:.1}%, precision {:.1}% ({} correct of {} answered; {} wrong, {} refused, {} rejected, {} errors)",
            o.n,
            100.0 * o.accuracy,
            100.0 * o.precision,
            o.correct,
            o.answered,
            o.wrong,
            o.cannot_translate,
            o.rejected,
            o.errors
        );
        if !self.models.is_empty() {
            line.push_str(&format!(
                "; semantic models applied: {}",
                self.models.join(", ")
            ));
        }
        if self.gold_errors > 0 {
            line.push_str(&format!(
                "; {} gold queries FAILED (see the failures)",
                self.gold_errors
            ));
        }
        line
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let mut tables = String::new();
        let groupings = self.groupings();
        if groupings.is_empty() {
            groupings_table(&mut tables, "overall", &BTreeMap::new(), &self.overall);
        }
        for (title, groups) in groupings {
            groupings_table(&mut tables, title, groups, &self.overall);
        }
        let mut lat = comfy_table::Table::new();
        lat.set_header(["stage", "p50 ms", "p95 ms"]);
        for (stage, p) in &self.latency_ms {
            lat.add_row([
                stage.clone(),
                format!("{:.2}", p.p50),
                format!("{:.2}", p.p95),
            ]);
        }
        format!(
            "suite {} · provider {} · {} questions in {:.1} s · tokens {} prompt + {} completion · ${:.4}\n{}\n{tables}{lat}\n{}\n",
            self.suite,
            self.provider,
            self.overall.n,
            self.wall_secs,
            self.tokens.prompt,
            self.tokens.completion,
            self.cost_usd,
            self.headline(),
            self.linking_line()
        )
    }

    /// The Markdown report: the headline, a table per grouping (difficulty, category,
    /// split) with accuracy and precision, linking and latency.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "**{}** with provider `{}`: {}, {:.1} s.\n",
            self.suite,
            self.provider,
            self.headline(),
            self.wall_secs,
        );
        let table = |out: &mut String, title: &str, groups: &BTreeMap<String, Tally>| {
            let mut header = HEADER;
            header[0] = title;
            out.push_str(&format!(
                "\n| {} |\n|{}|\n",
                header.join(" | "),
                HEADER.iter().map(|_| "---").collect::<Vec<_>>().join("|")
            ));
            for r in tally_rows("**overall**", groups, &self.overall) {
                out.push_str(&format!("| {} |\n", r.join(" | ")));
            }
        };
        let groupings = self.groupings();
        if groupings.is_empty() {
            table(&mut out, "group", &BTreeMap::new());
        }
        for (title, groups) in groupings {
            table(&mut out, title, groups);
        }
        out.push_str(&format!("\n{}\n", self.linking_line()));
        out.push_str("\n| stage | p50 ms | p95 ms |\n|---|---|---|\n");
        for (stage, p) in &self.latency_ms {
            out.push_str(&format!("| {stage} | {:.2} | {:.2} |\n", p.p50, p.p95));
        }
        out
    }

    /// The failures as JSON Lines.
    pub fn failures_jsonl(&self) -> String {
        self.graded
            .iter()
            .filter(|g| g.outcome != Outcome::Correct)
            .filter_map(|g| serde_json::to_string(g).ok())
            .map(|l| l + "\n")
            .collect()
    }
}

/// One terminal table of a grouping.
fn groupings_table(
    out: &mut String,
    title: &str,
    groups: &BTreeMap<String, Tally>,
    overall: &Tally,
) {
    let mut t = comfy_table::Table::new();
    let mut header = HEADER;
    header[0] = title;
    t.set_header(header);
    for r in tally_rows("overall", groups, overall) {
        t.add_row(r);
    }
    out.push_str(&format!("{t}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(db: &str, difficulty: Option<&str>, category: Option<&str>) -> Question {
        Question {
            id: "q".into(),
            db: db.into(),
            question: "?".into(),
            gold_sql: GoldSql::One("SELECT 1".into()),
            difficulty: difficulty.map(str::to_owned),
            category: category.map(str::to_owned),
            split: None,
        }
    }

    #[test]
    fn filters_combine_keys_and_alternatives() {
        let f = Filter::parse("db=a|b, difficulty=easy").unwrap();
        assert_eq!(f.db, ["a", "b"]);
        assert!(f.keeps(&question("a", Some("easy"), None)));
        assert!(f.keeps(&question("b", Some("easy"), Some("x"))));
        assert!(!f.keeps(&question("c", Some("easy"), None)));
        assert!(!f.keeps(&question("a", Some("hard"), None)));
        assert!(
            !f.keeps(&question("a", None, None)),
            "no difficulty fails a difficulty condition"
        );
        let f = Filter::parse("category=date_functions").unwrap();
        assert!(f.keeps(&question("z", None, Some("date_functions"))));
        assert!(!f.keeps(&question("z", None, Some("instruct"))));
        assert_eq!(Filter::parse("").unwrap(), Filter::default());
        assert!(Filter::default().keeps(&question("any", None, None)));
        assert!(Filter::parse("db").is_err());
        assert!(Filter::parse("db=").is_err());
        assert!(Filter::parse("colour=red").unwrap_err().contains("colour"));
    }

    #[test]
    fn progress_lines_come_every_twentieth_and_every_ten_seconds() {
        let quick = std::time::Duration::from_secs(1);
        assert!(progress_due(50, 1000, quick));
        assert!(!progress_due(51, 1000, quick));
        assert!(progress_due(51, 1000, PROGRESS_EVERY), "time passed");
        assert!(progress_due(7, 7, quick), "the end");
        assert!(progress_due(1, 3, quick), "small suites: every question");
        assert_eq!(
            progress_line(50, 1000, 25, 12.4),
            "eval: 50/1000 questions (5%), 50.0% correct so far, 12 s"
        );
    }

    #[test]
    fn precision_counts_only_answered_questions() {
        let mut t = Tally::default();
        for o in [
            Outcome::Correct,
            Outcome::Wrong,
            Outcome::CannotTranslate,
            Outcome::CannotTranslate,
        ] {
            t.add(o);
        }
        assert_eq!((t.n, t.answered, t.correct), (4, 2, 1));
        assert!((t.accuracy - 0.25).abs() < 1e-9);
        assert!((t.precision - 0.5).abs() < 1e-9);
        let mut none = Tally::default();
        none.add(Outcome::CannotTranslate);
        assert_eq!(none.precision, 0.0);
    }
}
