//! Logging: tracing with a pretty or JSON format and a filter that `PATCH /settings`
//! (`log_level`) can change at run time. Secrets never reach a log line: they travel as
//! `Secret<T>`, which prints `[redacted]`.
//!
//! Traces: built with the `otel` feature and given `otel_endpoint`, the same spans (the
//! `request` span with request_id, method, path and status) are also exported over
//! OTLP/HTTP protobuf to `<otel_endpoint>/v1/traces` with service.name `querent`, by the
//! SDK's batch thread; [`shutdown_traces`] sends what is still queued when the server stops.
//! Without the feature, a configured endpoint is a start-up error: configuration that
//! cannot be honoured fails loudly.

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
    init_to(level, format, false, None)
}

/// [`init`], also exporting the spans to the OpenTelemetry collector at `otel_endpoint`
/// (e.g. `http://collector:4318`) when one is given: for `querent serve`.
pub fn init_with_traces(
    level: &str,
    format: &str,
    otel_endpoint: Option<&str>,
) -> Result<LogLevelHook, String> {
    init_to(level, format, false, otel_endpoint)
}

/// [`init`], writing to standard error: for `querent mcp`, whose standard output carries
/// the protocol.
pub fn init_stderr(level: &str, format: &str) -> Result<LogLevelHook, String> {
    init_to(level, format, true, None)
}

#[cfg(feature = "otel")]
static TRACER_PROVIDER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> =
    std::sync::OnceLock::new();

/// The OpenTelemetry layer exporting to `<endpoint>/v1/traces`.
#[cfg(feature = "otel")]
fn otel_layer<S>(endpoint: &str) -> Result<impl tracing_subscriber::Layer<S>, String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;
    // The exporter's HTTP client is built without TLS (it would bring a second TLS stack):
    // the collector is a local agent or sidecar reached over plain HTTP.
    if !endpoint.starts_with("http://") {
        return Err(format!(
            "otel_endpoint `{endpoint}`: expected an http:// URL of an OTLP/HTTP collector \
             (e.g. http://collector:4318); https is not supported by this build"
        ));
    }
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| format!("otel_endpoint `{endpoint}`: {e}"))?;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("querent")
                .build(),
        )
        .build();
    let tracer = provider.tracer("querent");
    let _ = TRACER_PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Exports the spans still queued and stops the exporter; nothing when traces are off.
/// Blocks (up to the SDK's export timeout): call it from a blocking context.
pub fn shutdown_traces() {
    #[cfg(feature = "otel")]
    if let Some(provider) = TRACER_PROVIDER.get()
        && let Err(e) = provider.shutdown()
    {
        eprintln!("could not flush the OpenTelemetry traces: {e}");
    }
}

fn init_to(
    level: &str,
    format: &str,
    stderr: bool,
    otel_endpoint: Option<&str>,
) -> Result<LogLevelHook, String> {
    #[cfg(not(feature = "otel"))]
    if let Some(endpoint) = otel_endpoint {
        return Err(format!(
            "otel_endpoint is set ({endpoint}) but this querent was built without the `otel` \
             feature: rebuild with `--features otel` or unset otel_endpoint / QUERENT_OTEL_ENDPOINT"
        ));
    }
    #[cfg(feature = "otel")]
    let otel = otel_endpoint.map(otel_layer).transpose()?;
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
    let registry = tracing_subscriber::registry().with(filter_layer).with(fmt);
    #[cfg(feature = "otel")]
    let registry = registry.with(otel);
    registry.try_init().map_err(|e| e.to_string())?;
    Ok(Arc::new(move |level: &str| {
        handle.reload(filter(level)?).map_err(|e| e.to_string())
    }))
}
