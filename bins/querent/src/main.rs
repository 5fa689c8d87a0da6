//! `querent`: the command line. `querent` alone (or `querent serve`) starts the server.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: after a burst (5,000 open streams) glibc kept
/// 335 of the server's 607 MiB resident as free memory in its per-thread arenas, never
/// returned; mimalloc hands freed pages back to the system shortly after (docs/BENCHMARKS.md).
/// The `system-alloc` feature keeps glibc's, for heap profilers that hook `malloc`
/// (`heaptrack`).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use querent::{Config, admin, build_app, logging};

#[derive(Parser)]
#[command(
    name = "querent",
    version,
    about = "Ask your databases questions in plain language; get safe, validated SQL."
)]
struct Cli {
    /// Configuration file (default: ./querent.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (embedded store, key file).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Log level (trace, debug, info, warn, error) or a filter like `querent=debug`; over
    /// `QUERENT_LOG_LEVEL` and `log_level` in the file.
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Listen address, e.g. 127.0.0.1:8080.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Ask a question about a connection and print the SQL and the answer.
    Ask {
        /// The question, e.g. "how many customers are there?".
        question: String,
        /// Connection name (default: `demo`, or the only connection).
        #[arg(long)]
        connection: Option<String>,
        /// Act as this user (default: the oldest administrator).
        #[arg(long)]
        user: Option<String>,
        /// Rows to show at most.
        #[arg(long, default_value_t = 20)]
        max_rows: u32,
    },
    /// Measure a provider's execution accuracy on a text-to-SQL suite (e.g. ../shared/eval/spider-dev).
    Eval {
        /// Suite directory (questions.jsonl + db/) or a .jsonl file.
        #[arg(long)]
        suite: PathBuf,
        /// Provider (default: offline).
        #[arg(long)]
        provider: Option<String>,
        /// Register this provider for the run: the JSON body of POST /api/v1/providers.
        #[arg(long, env = "QUERENT_EVAL_PROVIDER", hide_env_values = true)]
        provider_config: Option<String>,
        /// Only some questions: `KEY=VALUE` conditions separated by commas, all of which must
        /// hold; alternatives separated by `|`. Keys: db, difficulty, category, split
        /// (e.g. `db=demo,difficulty=easy|medium,split=heldout`).
        #[arg(long)]
        filter: Option<String>,
        /// Do not apply the suite's semantic models (`models/<db>.json`), to measure their
        /// effect.
        #[arg(long)]
        no_models: bool,
        /// At most N questions.
        #[arg(long)]
        limit: Option<usize>,
        /// Questions in flight at once (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Write the JSON report here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write a Markdown report here.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Write every failed question (JSON Lines) here.
        #[arg(long)]
        failures: Option<PathBuf>,
    },
    /// Run the performance benchmarks and print their numbers (docs/BENCHMARKS.md).
    Bench {
        /// Only these benchmarks (comma-separated): guard, chat, latency, cache, linking, throughput, sse, introspect, cold_start, stats, questions.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Write all results to this JSON file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Seconds per throughput phase.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Concurrent clients of the throughput benchmark, comma-separated (one run each).
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 32, 256, 1000])]
        clients: Vec<usize>,
        /// Sequential chat requests per provider (chat benchmark).
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// SSE streams held open at once (sse benchmark), comma-separated (one run each).
        #[arg(long, value_delimiter = ',', default_values_t = [500usize, 5_000])]
        streams: Vec<usize>,
        /// Schema sizes in tables (introspect and linking benchmarks), comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000])]
        tables: Vec<usize>,
        /// Directory of the evaluation suites (guard benchmark).
        #[arg(long, default_value = "../shared/eval")]
        eval_dir: PathBuf,
        /// PostgreSQL server for the introspect benchmark (connection string without dbname).
        #[arg(long, default_value = "host=127.0.0.1 port=5432 user=postgres")]
        pg: String,
        /// Introspect benchmark: use (and keep) this database instead of a fresh one that is
        /// dropped; its tables from an earlier run are reused, only missing ones created.
        #[arg(long)]
        pg_database: Option<String>,
        /// Entries in the cache benchmark's index.
        #[arg(long, default_value_t = 1_000_000)]
        cache_entries: usize,
        /// Metadata store of the load benchmarks' server (latency, throughput, sse):
        /// `sqlite` (embedded), `postgres` (a fresh database on 127.0.0.1:5432, user
        /// postgres, dropped afterwards) or the postgres:// URL of another server.
        #[arg(long, default_value = "sqlite")]
        store: String,
    },
    /// Serve the Model Context Protocol over stdin/stdout for a desktop agent, as the API
    /// client whose key is in QUERENT_API_KEY (see the README, "MCP for agents").
    Mcp,
    /// Run the store's pending migrations and exit.
    Migrate,
    /// (Re)generate the demo database and register it as connection `demo` of the first team.
    Demo {
        /// Only write the demo database to this file, dated today (e.g. for the
        /// `eval/demo-business` suite: `--out eval/demo-business/db/demo.sqlite`); nothing is
        /// registered.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (on an empty server: the first admin and their team).
    CreateUser {
        /// Username.
        #[arg(long)]
        username: String,
        /// Password (or set QUERENT_NEW_PASSWORD to keep it out of the shell history).
        #[arg(long, env = "QUERENT_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the user a server administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Re-encrypt every stored secret under a new master key.
    RotateKey,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

#[tokio::main]
#[allow(clippy::too_many_lines)] // one arm per CLI command
#[allow(clippy::disallowed_methods)] // the CLI: each command runs alone on the runtime, or before the server starts
async fn main() {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref()).unwrap_or_else(|e| fail(e));
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    if let Some(l) = cli.log_level {
        config.set_log_level(l);
    }
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            serve(config).await
        }
        Command::Ask {
            question,
            connection,
            user,
            max_rows,
        } => {
            let _ = logging::init("warn", &config.log_format);
            let parts = build_app(&config, None).await.unwrap_or_else(|e| fail(e));
            let args = querent::ask::AskArgs {
                question,
                connection,
                user,
                max_rows,
            };
            match querent::ask::ask(&parts, args).await {
                Ok(out) => print!("{out}"),
                Err(e) => fail(e),
            }
        }
        Command::Eval {
            suite,
            provider,
            provider_config,
            filter,
            no_models,
            limit,
            jobs,
            json,
            markdown,
            failures,
        } => {
            let _ = logging::init("error", &config.log_format);
            let filter = querent::eval::Filter::parse(filter.as_deref().unwrap_or(""))
                .unwrap_or_else(|e| fail(format!("--filter: {e}")));
            let args = querent::eval::EvalArgs {
                suite,
                provider,
                provider_config,
                filter,
                limit,
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
                progress: if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    querent::eval::Progress::Bar
                } else {
                    querent::eval::Progress::Lines
                },
                models: !no_models,
            };
            let report = querent::eval::run(&args).await.unwrap_or_else(|e| fail(e));
            print!("{}", report.table());
            let write = |path: &PathBuf, text: String| {
                std::fs::write(path, text)
                    .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", path.display())));
            };
            if let Some(p) = &json {
                write(p, serde_json::to_string_pretty(&report).unwrap_or_default());
            }
            if let Some(p) = &markdown {
                write(p, report.markdown());
            }
            if let Some(p) = &failures {
                write(p, report.failures_jsonl());
            }
            if report.gold_errors > 0 {
                fail(format!(
                    "{} gold queries failed: the suite needs a fix (their records, outcome `error`, are in --failures)",
                    report.gold_errors
                ));
            }
        }
        #[cfg(feature = "bench")]
        Command::Bench {
            only,
            json,
            duration,
            clients,
            requests,
            streams,
            tables,
            eval_dir,
            pg,
            pg_database,
            cache_entries,
            store,
        } => {
            let _ = logging::init("error", &config.log_format);
            let store = querent::bench::server::parse_store(&store).unwrap_or_else(|e| fail(e));
            let args = querent::bench::BenchArgs {
                only,
                duration: std::time::Duration::from_secs(duration),
                clients,
                requests,
                streams,
                tables,
                eval_dir,
                pg,
                pg_database,
                cache_entries,
                store,
            };
            let report = querent::bench::run(&args).await.unwrap_or_else(|e| fail(e));
            if let Some(p) = &json {
                std::fs::write(p, serde_json::to_string_pretty(&report).unwrap_or_default())
                    .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", p.display())));
                println!("\nresults written to {}", p.display());
            }
            let (line, code) = querent::bench::verdict(&report);
            println!("\n{line}");
            if code != 0 {
                std::process::exit(code);
            }
        }
        #[cfg(not(feature = "bench"))]
        Command::Bench { .. } => {
            eprintln!(
                "querent bench is built only with the `bench` feature (it links a fake LLM server the \
                 shipping binary does not carry): cargo run --release --features bench -- bench …"
            );
            std::process::exit(2);
        }
        Command::Mcp => {
            let _ = logging::init_stderr("warn", &config.log_format);
            let key = std::env::var("QUERENT_API_KEY").unwrap_or_default();
            if key.trim().is_empty() {
                fail(
                    "querent mcp needs QUERENT_API_KEY: the `api_key` (qk_…) POST \
                     /api/v1/api-clients shows once (scope `query:read` to ask, `query:write` \
                     to run SQL too)",
                );
            }
            let parts = build_app(&config, None).await.unwrap_or_else(|e| fail(e));
            match querent_mcp::serve_stdio(parts.app, &key).await {
                Ok(()) => {}
                Err(querent_mcp::McpError::Unauthenticated(e)) => {
                    fail(format!("QUERENT_API_KEY: {e}"))
                }
                Err(e) => fail(e),
            }
        }
        Command::Migrate => {
            let _ = logging::init(&config.log_level, &config.log_format);
            let store = querent_store::Store::connect(querent::store_config(&config))
                .unwrap_or_else(|e| fail(e));
            let ran = store.migrate().await.unwrap_or_else(|e| fail(e));
            println!("migrations applied: {ran} ({:?} store)", store.backend());
        }
        Command::Demo { out: Some(out) } => {
            let summary = querent::demo::generate(&out, today()).unwrap_or_else(|e| fail(e));
            println!(
                "demo database written to {} ({} orders)",
                out.display(),
                summary
                    .rows
                    .iter()
                    .find(|(t, _)| *t == "orders")
                    .map_or(0, |(_, n)| *n)
            );
        }
        Command::Demo { out: None } => {
            let _ = logging::init("warn", &config.log_format);
            let summary = querent::demo::generate(&config.demo_database_path(), today())
                .unwrap_or_else(|e| fail(e));
            let rows: Vec<String> = summary
                .rows
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            println!(
                "demo database written to {} ({})",
                config.demo_database_path().display(),
                rows.join(", ")
            );
            config.demo = true;
            let parts = build_app(&config, None).await.unwrap_or_else(|e| fail(e));
            match parts
                .app
                .ensure_demo_connection()
                .await
                .unwrap_or_else(|e| fail(e.detail))
            {
                Some(c) => println!("registered as connection `{}` ({})", c.name, c.id),
                None => println!(
                    "connection `demo` already registered (or no team yet: first-boot setup will register it)"
                ),
            }
        }
        Command::Admin { command } => {
            let _ = logging::init("warn", &config.log_format);
            match command {
                AdminCommand::CreateUser {
                    username,
                    password,
                    admin,
                } => {
                    let parts = build_app(&config, None).await.unwrap_or_else(|e| fail(e));
                    println!(
                        "{}",
                        admin::create_user(&parts, &username, password, admin)
                            .await
                            .unwrap_or_else(|e| fail(e))
                    );
                }
                AdminCommand::RotateKey => {
                    let r = admin::rotate_key(&config).await.unwrap_or_else(|e| fail(e));
                    println!(
                        "master key rotated: {} -> {}; {} stored secrets re-encrypted",
                        r.old_key_id, r.new_key_id, r.reencrypted
                    );
                    if let Some(v) = r.new_env_value {
                        println!(
                            "the key comes from QUERENT_MASTER_KEY: set it to the new value and restart every server:"
                        );
                        println!("QUERENT_MASTER_KEY={v}");
                    } else {
                        println!("restart running servers so they load the new key");
                    }
                }
            }
        }
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

#[allow(clippy::disallowed_methods)] // start-up: the demo database is checked before the server takes requests
async fn serve(config: Config) {
    let otel_endpoint = config.otel_endpoint.as_deref().filter(|e| !e.is_empty());
    let hook = logging::init_with_traces(&config.log_level, &config.log_format, otel_endpoint)
        .unwrap_or_else(|e| fail(e));
    if config.demo && !config.demo_database_path().exists() {
        match querent::demo::generate(&config.demo_database_path(), today()) {
            Ok(_) => {
                tracing::info!(path = %config.demo_database_path().display(), "generated the demo database")
            }
            Err(e) => tracing::warn!(error = %e, "could not generate the demo database"),
        }
    }
    let parts = build_app(&config, Some(hook))
        .await
        .unwrap_or_else(|e| fail(e));
    // The level an administrator stored applies only when the configuration did not set
    // one (Config::startup_log_level).
    let stored = parts.app.stored_log_level().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read the stored log level");
        None
    });
    let rust_log = std::env::var("RUST_LOG").is_ok_and(|v| !v.is_empty());
    if let Some(level) = config.startup_log_level(stored.as_deref(), rust_log) {
        parts.app.apply_log_level(level);
    }
    let background = querent::start_background(&parts.app).await;
    let listener = std::net::TcpListener::bind(&config.bind)
        .unwrap_or_else(|e| fail(format!("cannot listen on {}: {e}", config.bind)));
    let addr = listener.local_addr().unwrap_or_else(|e| fail(e));
    let server = querent_http::build_server(parts.app.clone(), config.http_config(), listener)
        .unwrap_or_else(|e| fail(e));
    println!(
        "Querent {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "  API docs: http://{addr}/docs/   store: {:?} ({})",
        parts.store.backend(),
        match &config.database_url {
            Some(_) => "QUERENT_DATABASE_URL".to_owned(),
            None => config.sqlite_store_path().display().to_string(),
        }
    );
    if parts
        .app
        .setup_status()
        .await
        .map(|s| s.needs_setup)
        .unwrap_or(false)
    {
        println!("  First boot: create the admin account with");
        println!(
            "    curl -s -X POST http://{addr}/api/v1/auth/setup -H 'Content-Type: application/json' \\"
        );
        println!(
            "         -d '{{\"username\": \"admin\", \"password\": \"choose-a-long-password\"}}'"
        );
        // This very program, as it was started (`querent` may not be on the PATH).
        let program = std::env::args().next().unwrap_or_else(|| "querent".into());
        println!("  or: {program} admin create-user --username admin --password …");
    }
    // SIGTERM or Ctrl-C: a bounded graceful stop (querent::shutdown), then exit at once —
    // blocking work still running (a hash, a SQLite query) must not hold the process.
    // A task of its own: the server's command loop must keep running while the shutdown
    // stops it through the handle.
    let handle = server.handle();
    let running = tokio::spawn(server);
    tokio::select! {
        ended = running => {
            match ended {
                Ok(Err(e)) => fail(e),
                Err(e) => fail(e),
                Ok(Ok(())) => {
                    let _ = tokio::task::spawn_blocking(logging::shutdown_traces).await;
                }
            }
        }
        () = querent::stop_signal() => {
            let bound = std::time::Duration::from_secs(config.shutdown_timeout_seconds);
            querent::shutdown(&parts.app, handle, background, bound).await;
            let _ = tokio::task::spawn_blocking(logging::shutdown_traces).await;
            std::process::exit(0);
        }
    }
}
