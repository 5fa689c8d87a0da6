//! Getting the SQL out of a model's reply.
//!
//! Models are asked for one ```` ```sql ```` fence followed by one sentence of explanation,
//! but they do not always comply. This module accepts, in order of preference:
//!
//! 1. a JSON object `{"sql": "...", "explanation": "..."}` (the whole reply, or inside a
//!    ```` ```json ```` fence);
//! 2. fenced code blocks (```` ```sql ````, ```` ```SQL ````, or ```` ``` ```` without a
//!    language): the first one whose content looks like a query (`SELECT` or `WITH`);
//! 3. an unfenced reply: the first line starting with `SELECT` or `WITH` up to the first
//!    blank line or semicolon.
//!
//! Trailing semicolons are stripped. The prose around the SQL becomes the explanation.
//! A reply starting with `CANNOT_TRANSLATE:` (the prompt's escape hatch) becomes
//! [`ProviderError::CannotTranslate`]; a reply with no SQL at all becomes
//! [`ProviderError::Failed`].

use querent_domain::query::ProviderError;

/// The SQL found in a reply, and what the model said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// The statement, trimmed, without trailing semicolons.
    pub sql: String,
    /// The prose around the SQL (or the JSON `explanation`), when there was any.
    pub explanation: Option<String>,
}

/// The marker a model uses to decline a question (see the prompt's rules).
pub const CANNOT_TRANSLATE: &str = "CANNOT_TRANSLATE:";

/// Longest explanation kept, in characters.
const MAX_EXPLANATION_CHARS: usize = 1_000;

/// Extracts the SQL from a model's reply.
pub fn extract_sql(reply: &str) -> Result<Extracted, ProviderError> {
    let without_thinking = strip_thinking(reply);
    let trimmed = without_thinking.trim();
    if let Some(found) = from_json(trimmed) {
        return Ok(found);
    }
    let blocks = fenced_blocks(trimmed);
    for block in &blocks {
        if block.lang.eq_ignore_ascii_case("json")
            && let Some(found) = from_json(block.body.trim())
        {
            return Ok(found);
        }
    }
    if let Some(block) = blocks
        .iter()
        .find(|b| is_sql_lang(&b.lang) && looks_like_query(b.body))
    {
        let sql = clean(block.body);
        let prose = format!("{}\n{}", &trimmed[..block.start], &trimmed[block.end..]);
        return Ok(Extracted {
            sql,
            explanation: explanation_from(&strip_fences(&prose)),
        });
    }
    if let Some(rest) = declined(trimmed) {
        return Err(ProviderError::CannotTranslate(rest));
    }
    if let Some((start, end)) = unfenced_query(trimmed) {
        let sql = clean(&trimmed[start..end]);
        let prose = format!("{}\n{}", &trimmed[..start], &trimmed[end..]);
        return Ok(Extracted {
            sql,
            explanation: explanation_from(&prose),
        });
    }
    let head: String = trimmed.chars().take(200).collect();
    Err(ProviderError::Failed(format!(
        "the provider's reply contained no SQL: {head}"
    )))
}

/// Removes `<think>…</think>` sections (reasoning models served by Ollama or vLLM put their
/// chain of thought there, often with SQL drafts in it).
fn strip_thinking(reply: &str) -> String {
    let mut out = String::with_capacity(reply.len());
    let mut rest = reply;
    while let Some(open) = rest.find("<think>") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</think>") {
            Some(close) => rest = &rest[open + close + "</think>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `CANNOT_TRANSLATE: reason` anywhere at the start of a line.
fn declined(reply: &str) -> Option<String> {
    reply.lines().find_map(|line| {
        let line = line.trim().trim_start_matches(['*', '`', '>', ' ']);
        let upper = line.get(..CANNOT_TRANSLATE.len())?;
        upper.eq_ignore_ascii_case(CANNOT_TRANSLATE).then(|| {
            let reason = line[CANNOT_TRANSLATE.len()..].trim_matches(['`', '*', ' ']);
            if reason.is_empty() {
                "the model could not answer this question from the schema".to_owned()
            } else {
                reason.to_owned()
            }
        })
    })
}

/// A fenced code block: its language tag, body and byte span in the reply.
struct Block<'a> {
    lang: String,
    body: &'a str,
    start: usize,
    end: usize,
}

/// Every ```` ``` ```` block of the text, in order. An unclosed last fence runs to the end.
fn fenced_blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(open) = text[pos..].find("```") {
        let open = pos + open;
        let after_ticks = open + 3;
        let line_end = text[after_ticks..]
            .find('\n')
            .map_or(text.len(), |i| after_ticks + i);
        let lang = text[after_ticks..line_end].trim().to_owned();
        // A fence on one line (```SELECT 1```) has no newline before its body.
        let (body_start, lang) = if let Some(close) = text[after_ticks..line_end].find("```") {
            let body = &text[after_ticks..after_ticks + close];
            out.push(Block {
                lang: String::new(),
                body,
                start: open,
                end: after_ticks + close + 3,
            });
            pos = after_ticks + close + 3;
            continue;
        } else if lang.split_whitespace().count() > 1
            || lang.to_ascii_uppercase().starts_with("SELECT")
            || lang.to_ascii_uppercase().starts_with("WITH ")
        {
            // No language tag: the body starts right after the ticks.
            (after_ticks, String::new())
        } else {
            ((line_end + 1).min(text.len()), lang)
        };
        let (body_end, end) = match text[body_start..].find("```") {
            Some(close) => (body_start + close, body_start + close + 3),
            None => (text.len(), text.len()),
        };
        out.push(Block {
            lang,
            body: &text[body_start..body_end],
            start: open,
            end,
        });
        pos = end;
        if pos >= text.len() {
            break;
        }
    }
    out
}

fn is_sql_lang(lang: &str) -> bool {
    let lang = lang.to_ascii_lowercase();
    matches!(
        lang.as_str(),
        "" | "sql" | "postgresql" | "postgres" | "pgsql" | "mysql" | "sqlite" | "plsql" | "tsql"
    )
}

/// Whether a text starts (after comments and blank lines) with `SELECT`, `WITH` or an
/// opening parenthesis followed by one of them.
fn looks_like_query(text: &str) -> bool {
    let mut s = text.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i + 1..]).trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]).trim_start();
        } else {
            break;
        }
    }
    let s = s.trim_start_matches(['(', ' ', '\n', '\t', '\r']);
    starts_with_keyword(s, "SELECT") || starts_with_keyword(s, "WITH")
}

fn starts_with_keyword(s: &str, keyword: &str) -> bool {
    s.get(..keyword.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(keyword))
        && s[keyword.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

/// An unfenced query: the first line that starts with SELECT/WITH, up to a blank line, a
/// semicolon or the end.
fn unfenced_query(text: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lead = line.len() - line.trim_start().len();
        if looks_like_query(line) && !line.trim_start().starts_with("--") {
            let start = offset + lead;
            let rest = &text[start..];
            let mut end = rest.len();
            if let Some(i) = rest.find("\n\n") {
                end = end.min(i);
            }
            if let Some(i) = rest.find(';') {
                end = end.min(i + 1);
            }
            let mut end = start + end;
            while text[end..].starts_with(';') {
                end += 1;
            }
            return Some((start, end));
        }
        offset += line.len();
    }
    None
}

/// `{"sql": "...", "explanation"?: "..."}`.
fn from_json(text: &str) -> Option<Extracted> {
    if !text.starts_with('{') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let sql = value.get("sql")?.as_str()?;
    if !looks_like_query(sql) {
        return None;
    }
    let explanation = ["explanation", "reasoning", "description"]
        .iter()
        .find_map(|k| value.get(*k).and_then(|v| v.as_str()))
        .and_then(explanation_from);
    Some(Extracted {
        sql: clean(sql),
        explanation,
    })
}

/// Trims, drops trailing semicolons.
fn clean(sql: &str) -> String {
    let mut s = sql.trim();
    while let Some(rest) = s.strip_suffix(';') {
        s = rest.trim_end();
    }
    s.to_owned()
}

/// Removes leftover fence markers (other code blocks) from prose.
fn strip_fences(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collapses prose to one paragraph; `None` when there is nothing to say.
fn explanation_from(prose: &str) -> Option<String> {
    let joined = prose.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined
        .trim_start_matches(|c: char| c == ':' || c.is_whitespace())
        .trim();
    let lower = joined.to_ascii_lowercase();
    if joined.is_empty()
        || matches!(
            lower.trim_end_matches(':'),
            "here is the sql" | "here is the query" | "sql" | "answer"
        )
    {
        return None;
    }
    Some(joined.chars().take(MAX_EXPLANATION_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(reply: &str) -> String {
        extract_sql(reply).unwrap().sql
    }

    #[test]
    fn sql_fence() {
        let e = extract_sql("```sql\nSELECT id FROM t LIMIT 5;\n```\nLists the ids.").unwrap();
        assert_eq!(e.sql, "SELECT id FROM t LIMIT 5");
        assert_eq!(e.explanation.as_deref(), Some("Lists the ids."));
    }

    #[test]
    fn fence_without_language_and_upper_case_tag() {
        assert_eq!(sql("```\nselect 1\n```"), "select 1");
        assert_eq!(sql("```SQL\nSELECT 2\n```"), "SELECT 2");
        assert_eq!(sql("```postgresql\nSELECT 3\n```"), "SELECT 3");
        assert_eq!(sql("```SELECT 4```"), "SELECT 4");
    }

    #[test]
    fn prose_around_the_fence() {
        let reply = "Sure! Here is the query you asked for:\n\n```sql\nWITH x AS (SELECT 1 AS a)\nSELECT a FROM x\n```\n\nIt uses a CTE to select one value.";
        let e = extract_sql(reply).unwrap();
        assert_eq!(e.sql, "WITH x AS (SELECT 1 AS a)\nSELECT a FROM x");
        let explanation = e.explanation.unwrap();
        assert!(explanation.starts_with("Sure! Here is the query"));
        assert!(explanation.ends_with("to select one value."));
    }

    #[test]
    fn several_candidates_take_the_first_query() {
        let reply = "First the table:\n```sql\nCREATE TABLE t (a int);\n```\nThen:\n```python\nprint(1)\n```\n```sql\nSELECT a FROM t;\n```\nor maybe\n```sql\nSELECT b FROM t\n```";
        assert_eq!(sql(reply), "SELECT a FROM t");
    }

    #[test]
    fn leading_comment_is_still_a_query() {
        assert_eq!(
            sql("```sql\n-- count them\nSELECT count(*) FROM t\n```"),
            "-- count them\nSELECT count(*) FROM t"
        );
        assert_eq!(
            sql("```sql\n(SELECT 1) UNION (SELECT 2)\n```"),
            "(SELECT 1) UNION (SELECT 2)"
        );
    }

    #[test]
    fn json_object() {
        let e =
            extract_sql(r#"{"sql": "SELECT name FROM users;", "explanation": "Names."}"#).unwrap();
        assert_eq!(e.sql, "SELECT name FROM users");
        assert_eq!(e.explanation.as_deref(), Some("Names."));
        assert_eq!(sql("```json\n{\"sql\": \"SELECT 1\"}\n```"), "SELECT 1");
    }

    #[test]
    fn unfenced_sql_with_prose() {
        let e = extract_sql(
            "The answer:\nSELECT *\nFROM orders\nWHERE total > 10;;\n\nThat filters big orders.",
        )
        .unwrap();
        assert_eq!(e.sql, "SELECT *\nFROM orders\nWHERE total > 10");
        assert_eq!(
            e.explanation.as_deref(),
            Some("The answer: That filters big orders.")
        );
        assert_eq!(sql("  SELECT 1  "), "SELECT 1");
    }

    #[test]
    fn trailing_semicolons_are_stripped() {
        assert_eq!(sql("```sql\nSELECT 1 ; ;\n```"), "SELECT 1");
    }

    #[test]
    fn selected_is_not_select() {
        let err = extract_sql("Selected rows are shown below.").unwrap_err();
        assert!(matches!(err, ProviderError::Failed(_)));
    }

    #[test]
    fn no_sql_is_a_failure_quoting_the_reply() {
        let reply = format!("I am not sure what you mean. {}", "x".repeat(300));
        let err = extract_sql(&reply).unwrap_err();
        let ProviderError::Failed(msg) = err else {
            panic!("expected Failed, got {err:?}");
        };
        assert!(msg.starts_with("the provider's reply contained no SQL: I am not sure"));
        assert_eq!(
            msg.len(),
            "the provider's reply contained no SQL: ".len() + 200
        );
        // Only non-query code is no SQL either.
        assert!(extract_sql("```sql\nDROP TABLE t\n```").is_err());
        assert!(extract_sql("").is_err());
    }

    #[test]
    fn thinking_is_ignored() {
        let reply = "<think>Maybe SELECT * FROM wrong?</think>\n```sql\nSELECT right FROM t\n```";
        assert_eq!(sql(reply), "SELECT right FROM t");
    }

    #[test]
    fn declining() {
        let err = extract_sql("CANNOT_TRANSLATE: there is no table about weather").unwrap_err();
        assert_eq!(
            err,
            ProviderError::CannotTranslate("there is no table about weather".into())
        );
        let err = extract_sql("Sorry.\n**CANNOT_TRANSLATE:**").unwrap_err();
        assert!(matches!(err, ProviderError::CannotTranslate(_)));
    }
}
