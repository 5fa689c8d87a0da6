//! Logging: tracing with a pretty or JSON format and a filter that `PATCH /settings`
//! (`log_level`) can change at run time. Secrets never reach a log line: they travel as
//! `Secret<T>`, which prints `[redacted]`.

use std::sync::Arc;

use querent_app::LogLevelHook;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, reload};

fn filter(level: &str) -> Result<EnvFilter, String> {
    // A bare level applies to everything but keeps the noisiest dependencies at warn.
    let spec = if ["trace", "debug", "info", "warn", "error"].contains(&level) {
        format!("{level},actix_server=warn,h2=warn,hyper=warn,tokio_postgres=warn")
    } else {
        level.to_owned()
    };
    EnvFilter::try_new(&spec).map_err(|e| format!("invalid log filter `{level}`: {e}"))
}

/// Installs the global subscriber; returns the hook that changes its level. `RUST_LOG`,
/// when set, wins over `level`.
pub fn init(level: &str, format: &str) -> Result<LogLevelHook, String> {
    init_to(level, format, false)
}

/// [`init`], writing to standard error: for `querent mcp`, whose standard output carries
/// the protocol.
pub fn init_stderr(level: &str, format: &str) -> Result<LogLevelHook, String> {
    init_to(level, format, true)
}

fn init_to(level: &str, format: &str, stderr: bool) -> Result<LogLevelHook, String> {
    let initial = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v).map_err(|e| e.to_string())?,
        _ => filter(level)?,
    };
    let (filter_layer, handle) = reload::Layer::new(initial);
    let writer = move || -> Box<dyn std::io::Write> {
        if stderr {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    };
    let fmt = match format {
        "json" => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(writer)
            .boxed(),
        "pretty" => tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(writer)
            .boxed(),
        other => return Err(format!("log_format: `{other}` is not one of pretty, json")),
    };
    tracing_subscriber::registry()
        .with(filter_layer)
        .with(fmt)
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(move |level: &str| {
        handle.reload(filter(level)?).map_err(|e| e.to_string())
    }))
}
