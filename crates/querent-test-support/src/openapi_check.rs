//! Every response the HTTP test suite reads is checked against the served OpenAPI document
//! ([`querent_http::openapi::document`]): its status must be documented for the operation
//! and its body must match the documented schema (JSON bodies with boon, a JSON Schema
//! 2020-12 validator; server-sent events one by one, each as `{"event", "data"}` against the
//! stream's schema; a body where none is documented is an error). A mismatch panics naming
//! the operation and what differs, so the test that made the request fails.
//!
//! The request's method is not known where responses are read, so a response is checked
//! against every operation whose path template matches its URL, and passes if one of them
//! documents its status with a schema the body matches. Paths outside the document (Swagger
//! UI, `/openapi.json`, unknown endpoints) are not checked.
//!
//! `QUERENT_OPENAPI_LOG=FILE` appends one line per response (`checked OPERATION STATUS` or
//! `unchecked PATH STATUS`), to measure what the suite covers.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

const DOC_URL: &str = "urn:querent:openapi.json";
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// One operation of the document.
struct Operation {
    /// `GET /api/v1/connections/{id}` (for messages).
    name: String,
    /// The path template's segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    /// JSON pointer of the operation in the document.
    pointer: String,
}

struct Checker {
    doc: Value,
    operations: Vec<Operation>,
    /// Every response schema of the document, compiled up front (boon's compiler cannot be
    /// shared between threads), by JSON pointer.
    schemas: boon::Schemas,
    compiled: HashMap<String, boon::SchemaIndex>,
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let doc = serde_json::to_value(querent_http::openapi::document()).expect("document");
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                if item.get(method).is_some() {
                    operations.push(Operation {
                        name: format!("{} {path}", method.to_uppercase()),
                        segments: path
                            .split('/')
                            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                            .collect(),
                        pointer: format!("/paths/{}/{method}", escape(path)),
                    });
                }
            }
        }
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler
            .add_resource(DOC_URL, doc.clone())
            .expect("document resource");
        let mut schemas = boon::Schemas::new();
        let mut compiled = HashMap::new();
        for op in &operations {
            let responses = doc.pointer(&op.pointer).expect("operation")["responses"].clone();
            for (status, response) in responses.as_object().into_iter().flatten() {
                for media in response["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|c| c.0)
                {
                    let pointer = format!(
                        "{}/responses/{status}/content/{}/schema",
                        op.pointer,
                        escape(media)
                    );
                    let index = compiler
                        .compile(&format!("{DOC_URL}#{pointer}"), &mut schemas)
                        .unwrap_or_else(|e| panic!("{}: {status} {media}: {e:#}", op.name));
                    compiled.insert(pointer, index);
                }
            }
        }
        Checker {
            doc,
            operations,
            schemas,
            compiled,
        }
    })
}

impl Checker {
    /// The operations whose template matches `path`, literal segments first.
    fn matching(&self, path: &str) -> Vec<&Operation> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut ops: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|op| {
                op.segments.len() == segments.len()
                    && op
                        .segments
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
            })
            .collect();
        ops.sort_by_key(|op| op.segments.iter().filter(|s| s.is_none()).count());
        ops
    }

    /// Validates `instance` against the schema at `pointer` of the document.
    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let index = self
            .compiled
            .get(pointer)
            .ok_or("no schema is documented")?;
        self.schemas
            .validate(instance, *index)
            .map_err(|e| format!("{e:#}"))
    }

    /// Checks a response against one operation.
    fn check_operation(
        &self,
        op: &Operation,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> Result<(), String> {
        let responses = &self.doc.pointer(&op.pointer).expect("operation")["responses"];
        let Some(response) = responses.get(status.to_string()) else {
            let documented: Vec<&String> = responses
                .as_object()
                .map(|m| m.keys().collect())
                .unwrap_or_default();
            return Err(format!(
                "status {status} is not documented (documented: {documented:?})"
            ));
        };
        let response_pointer = format!("{}/responses/{status}", op.pointer);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if body.trim().is_empty() {
                Ok(())
            } else {
                Err(format!("no body is documented, got {}", clip(body)))
            };
        };
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !content.contains_key(media) {
            return Err(format!(
                "content type `{media}` is not documented (documented: {:?}); body {}",
                content.keys().collect::<Vec<_>>(),
                clip(body)
            ));
        }
        let schema = format!("{response_pointer}/content/{}/schema", escape(media));
        if media == "text/event-stream" {
            for (event, data) in sse_events(body) {
                let instance = serde_json::json!({ "event": event, "data": data });
                self.validate(&schema, &instance)
                    .map_err(|e| format!("event `{event}` {}: {e}", clip(&data.to_string())))?;
            }
            return Ok(());
        }
        if media != "application/json" && !media.ends_with("+json") {
            // Files (CSV, XLSX): the documented media type is the contract; their bytes
            // are checked by the tests that download them.
            return Ok(());
        }
        let instance: Value = serde_json::from_str(body)
            .map_err(|e| format!("body is not JSON ({e}): {}", clip(body)))?;
        self.validate(&schema, &instance)
            .map_err(|e| format!("body {}: {e}", clip(body)))
    }
}

fn clip(s: &str) -> String {
    if s.len() > 400 {
        let mut end = 400;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_owned()
    }
}

/// `(event, data)` pairs of an SSE body (comments skipped; data parsed as JSON when it is).
fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| !l.is_empty() && !l.starts_with(':')))
        .map(|block| {
            let mut event = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
            (event, data)
        })
        .collect()
}

fn log(line: &str) {
    if let Some(path) = std::env::var_os("QUERENT_OPENAPI_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Checks one response (see the module docs); panics on a mismatch. `method` narrows the
/// operations when the caller knows it.
pub fn check_response(
    method: Option<&str>,
    url: &reqwest::Url,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) {
    let checker = checker();
    let ops: Vec<&Operation> = checker
        .matching(url.path())
        .into_iter()
        .filter(|op| method.is_none_or(|m| op.name.starts_with(&format!("{} ", m.to_uppercase()))))
        .collect();
    if ops.is_empty() {
        log(&format!("unchecked {} {status}", url.path()));
        return;
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut failures = Vec::new();
    for op in &ops {
        match checker.check_operation(op, status, content_type, body) {
            Ok(()) => {
                log(&format!("checked {} {status}", op.name));
                return;
            }
            Err(e) => failures.push(format!("  {}: {e}", op.name)),
        }
    }
    panic!(
        "the response to {} ({status}) does not match the OpenAPI document:\n{}",
        url.path(),
        failures.join("\n")
    );
}
