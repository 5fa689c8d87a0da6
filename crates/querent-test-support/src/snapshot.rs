//! JSON made stable for snapshot tests (insta): what changes from run to run is replaced by
//! a placeholder, so a snapshot shows exactly the shape and the values that must not change.
//!
//! | what | placeholder |
//! |---|---|
//! | `id` and `*_id` strings | `[id]` |
//! | `*_at` values (timestamps) | `[timestamp]` |
//! | `access_token`, `refresh_token`, `client_secret`, `api_key`, `token` | `[token]` |
//! | `execution_time_ms`, `latency_ms` (durations) | `[ms]` |
//! | a UUID inside any other string (an id named in a message) | `[uuid]` |

use serde_json::Value;

/// `value` with its ids, timestamps, tokens and durations replaced by placeholders.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match placeholder(k, v) {
                        Some(p) => Value::String(p.to_owned()),
                        None => redact(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_uuids(s)),
        other => other.clone(),
    }
}

fn placeholder(key: &str, value: &Value) -> Option<&'static str> {
    if value.is_null() {
        return None;
    }
    if (key == "id" || key.ends_with("_id")) && value.is_string() {
        Some("[id]")
    } else if key.ends_with("_at") {
        Some("[timestamp]")
    } else if matches!(
        key,
        "access_token" | "refresh_token" | "client_secret" | "api_key" | "token"
    ) {
        Some("[token]")
    } else if matches!(key, "execution_time_ms" | "latency_ms") {
        Some("[ms]")
    } else {
        None
    }
}

/// Replaces every UUID (8-4-4-4-12 hex digits) in `s` by `[uuid]`.
fn redact_uuids(s: &str) -> String {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let bytes = s.as_bytes();
    let is_uuid_at = |i: usize| {
        let mut j = i;
        for (n, len) in SHAPE.iter().enumerate() {
            if n > 0 {
                if bytes.get(j) != Some(&b'-') {
                    return false;
                }
                j += 1;
            }
            for _ in 0..*len {
                if !bytes.get(j).is_some_and(u8::is_ascii_hexdigit) {
                    return false;
                }
                j += 1;
            }
        }
        true
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s.is_char_boundary(i) && is_uuid_at(i) {
            out.push_str("[uuid]");
            i += 36;
        } else {
            let ch = s[i..].chars().next().unwrap_or_default();
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::redact;

    #[test]
    fn what_changes_between_runs_is_replaced() {
        let v = json!({
            "session_id": "01936f4e-8d2a-7c3b-9e4f-0123456789ab",
            "status": "executed",
            "results": {"rows": [[600]], "execution_time_ms": 3},
            "created_at": "2026-12-06T02:46:29Z",
            "access_token": "eyJ…",
            "error": null,
            "detail": "connection 01936f4e-8d2a-7c3b-9e4f-0123456789ab not found (é)",
        });
        assert_eq!(
            redact(&v),
            json!({
                "session_id": "[id]",
                "status": "executed",
                "results": {"rows": [[600]], "execution_time_ms": "[ms]"},
                "created_at": "[timestamp]",
                "access_token": "[token]",
                "error": null,
                "detail": "connection [uuid] not found (é)",
            })
        );
    }
}
