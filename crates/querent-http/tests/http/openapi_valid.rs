//! The OpenAPI document validates. `OPENAPI_FILE=path.json cargo test -p querent-http --test
//! http openapi_document_is_valid` checks another document (e.g. an older snapshot) instead
//! of the served one, and prints every problem.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// The OpenAPI 3.1 schema (2022-10-07), as published by the OpenAPI Initiative (Apache
/// 2.0), vendored so the test runs offline.
const OAS_31_SCHEMA: &str = include_str!("oas-3.1-schema.json");
const OAS_31_ID: &str = "https://spec.openapis.org/oas/3.1/schema/2022-10-07";
/// Where the document is registered for boon (any absolute URL; nothing is fetched).
const DOC_URL: &str = "urn:querent:openapi.json";
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn served_document() -> Value {
    serde_json::to_value(querent_http::openapi::document()).expect("serialise")
}

/// Every problem found in `doc`, each naming where it is.
pub fn document_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    // 1. The OpenAPI 3.1 schema.
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let oas: Value = serde_json::from_str(OAS_31_SCHEMA).expect("OAS schema");
    compiler
        .add_resource(OAS_31_ID, oas)
        .expect("OAS schema resource");
    let oas = compiler
        .compile(OAS_31_ID, &mut schemas)
        .expect("OAS schema compiles");
    if let Err(e) = schemas.validate(doc, oas) {
        problems.push(format!("OpenAPI 3.1 schema: {e:#}"));
    }
    // 2. A typed parse.
    if let Err(e) = oas3::from_json(doc.to_string()) {
        problems.push(format!("oas3 cannot parse the document: {e}"));
    }
    // 3. Every $ref resolves.
    let mut refs = Vec::new();
    collect_refs(doc, "", &mut refs);
    for (at, r) in refs {
        let ok = r
            .strip_prefix('#')
            .is_some_and(|pointer| doc.pointer(pointer).is_some());
        if !ok {
            problems.push(format!("{at}: $ref `{r}` does not resolve"));
        }
    }
    // 4. Operations: path parameters, operation ids, error answers.
    let mut ids: HashMap<String, String> = HashMap::new();
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for (path, item) in paths {
        let template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let name = format!("{} {path}", method.to_uppercase());
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut declared = BTreeSet::new();
            for p in &params {
                let (pname, pin) = (
                    p["name"].as_str().unwrap_or(""),
                    p["in"].as_str().unwrap_or(""),
                );
                match pin {
                    "path" if !template.contains(pname) => problems.push(format!(
                        "{name}: path parameter `{pname}` is not in the path template"
                    )),
                    "path" if p["required"] != Value::Bool(true) => {
                        problems.push(format!("{name}: path parameter `{pname}` is not required"))
                    }
                    "path" => {
                        declared.insert(pname);
                    }
                    "query" if template.contains(pname) => problems.push(format!(
                        "{name}: `{pname}` is in the path template but declared in the query"
                    )),
                    _ => {}
                }
            }
            for missing in template.difference(&declared) {
                problems.push(format!(
                    "{name}: path parameter `{missing}` is not declared"
                ));
            }
            match op["operationId"].as_str() {
                None => problems.push(format!("{name}: no operationId")),
                Some(id) => {
                    if let Some(other) = ids.insert(id.to_owned(), name.clone()) {
                        problems.push(format!("{name}: operationId `{id}` is also {other}'s"));
                    }
                }
            }
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            let public = op["security"].as_array().is_some_and(|reqs| {
                reqs.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            let mut needed: Vec<&str> = Vec::new();
            if !public {
                needed.extend(["401", "403", "429"]);
            }
            if op.get("requestBody").is_some() {
                needed.extend(["413", "422"]);
            }
            if !params.is_empty() {
                needed.push("422");
            }
            for status in needed {
                if !responses.contains_key(status) {
                    problems.push(format!("{name}: {status} is not documented"));
                }
            }
        }
    }
    // 5. Every component schema is a valid JSON Schema (2020-12, OpenAPI 3.1's dialect).
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    compiler
        .add_resource(DOC_URL, doc.clone())
        .expect("document resource");
    let mut schemas = boon::Schemas::new();
    let components = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in components.keys() {
        let loc = format!(
            "{DOC_URL}#/components/schemas/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        if let Err(e) = compiler.compile(&loc, &mut schemas) {
            problems.push(format!(
                "components.schemas.{name}: not a valid JSON Schema: {e:#}"
            ));
        }
    }
    problems
}

fn collect_refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.to_owned(), r.to_owned()));
                    }
                } else {
                    collect_refs(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn openapi_document_is_valid() {
    let (what, doc) = match std::env::var("OPENAPI_FILE") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("OPENAPI_FILE");
            (
                path,
                serde_json::from_str(&text).expect("OPENAPI_FILE is JSON"),
            )
        }
        Err(_) => ("the served document".to_owned(), served_document()),
    };
    let problems = document_problems(&doc);
    assert!(
        problems.is_empty(),
        "{} problems in {what}:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn enums_are_documented_with_their_wire_spelling() {
    use querent_domain::*;
    fn wire<T: std::fmt::Display>(all: &[T]) -> Vec<Value> {
        all.iter().map(|v| Value::String(v.to_string())).collect()
    }
    let doc = served_document();
    let expected = [
        ("Dialect", wire(Dialect::ALL)),
        ("ExecutionMode", wire(ExecutionMode::ALL)),
        ("MessageStatus", wire(MessageStatus::ALL)),
        ("ProviderKind", wire(ProviderKind::ALL)),
        ("SslMode", wire(SslMode::ALL)),
        ("Role", wire(Role::ALL)),
        ("TeamRole", wire(TeamRole::ALL)),
        ("Scope", wire(Scope::ALL)),
        ("ErrorCode", wire(ErrorCode::ALL)),
    ];
    for (name, values) in expected {
        assert_eq!(
            doc["components"]["schemas"][name]["enum"],
            Value::Array(values),
            "{name}"
        );
    }
}

#[test]
fn limit_maxima_are_the_servers() {
    let doc = served_document();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "limit" {
                    // The audit log reads up to 500 entries at once, a saved query keeps its
                    // newest runs; lists page by MAX_LIMIT.
                    let max = match path.as_str() {
                        "/api/v1/audit" => 500,
                        "/api/v1/queries/{id}/runs" => i64::from(querent_app::queries::KEEP_RUNS),
                        _ => querent_app::MAX_LIMIT,
                    };
                    assert_eq!(p["schema"]["maximum"], max, "{method} {path}");
                    assert_eq!(p["schema"]["minimum"], 1, "{method} {path}");
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 8, "only {seen} limit parameters");
}
