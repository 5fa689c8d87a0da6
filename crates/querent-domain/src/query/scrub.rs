//! Scrubbing database error messages before they reach an LLM provider.
//!
//! Databases quote the offending *value* in many errors (`invalid input syntax for type
//! integer: "alice@example.com"`, `Truncated incorrect DOUBLE value: 'alice@…'`), and put
//! more of them in PostgreSQL's DETAIL and CONTEXT (`Key (email)=(alice@…)`, `Token "…" is
//! invalid`). A provider is a third party: it may see what the model itself wrote (names,
//! literals of its SQL) and what it needs to fix the statement, never data.
//!
//! The rule is an allow-list: a quoted fragment of the message is kept only when the model
//! wrote it — a name whose every dotted part is a word of its SQL, or the exact text of a
//! quoted literal or identifier in its SQL, or the SQL text a syntax error points at — or
//! when it is harmless (a clause name of MySQL's `in 'field list'`, a lone operator).
//! Everything else becomes `…` inside the same quotes. DETAIL, HINT, CONTEXT and QUERY
//! lines are dropped, `=(…)` groups (`Key (email)=(…)`) emptied, and long numbers that do
//! not appear in the SQL replaced.

use std::collections::HashSet;

/// What replaces a removed fragment.
const REMOVED: &str = "…";

/// Digit runs at least this long are treated as possible values.
const LONG_NUMBER: usize = 5;

/// Line prefixes (psql style) whose whole line is dropped: they carry values or the query.
const DROPPED_LINES: &[&str] = &["detail:", "hint:", "context:", "where:", "query:", "line "];

/// MySQL/MariaDB name the clause an unknown column was found in with a quoted phrase.
const CLAUSE_PHRASES: &[&str] = &[
    "field list",
    "where clause",
    "on clause",
    "order clause",
    "group statement",
    "having clause",
    "from clause",
    "in/all/any subquery",
];

/// The message with every fragment that may be a data value removed (see the module doc).
/// `sql` is the statement the provider wrote.
pub fn scrub_db_message(message: &str, sql: &str) -> String {
    let words = sql_words(sql);
    let kept: Vec<String> = message
        .lines()
        .filter(|line| {
            let t = line.trim_start().to_ascii_lowercase();
            !DROPPED_LINES.iter().any(|p| t.starts_with(p))
        })
        .map(|line| scrub_line(line, sql, &words))
        .filter(|line| !line.trim().is_empty())
        .collect();
    kept.join(" ").trim().to_owned()
}

/// The lower-cased words (`[A-Za-z0-9_$]+`) of a statement, including those inside its
/// literals and quoted identifiers.
fn sql_words(sql: &str) -> HashSet<String> {
    sql.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn scrub_line(line: &str, sql: &str, words: &HashSet<String>) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                let (fragment, end, closed) = quoted(&chars, i, c);
                let before: String = chars[..i].iter().collect();
                out.push(c);
                if keep_fragment(&fragment, c, &before, sql, words) {
                    out.push_str(&fragment);
                } else {
                    out.push_str(REMOVED);
                }
                if closed {
                    out.push(c);
                }
                i = end;
            }
            '=' if chars.get(i + 1) == Some(&'(') => {
                // `Key (email)=(alice@…)`: the values of a key.
                let mut depth = 0usize;
                let mut j = i + 1;
                while j < chars.len() {
                    match chars[j] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                out.push_str("=(");
                out.push_str(REMOVED);
                out.push(')');
                i = j + 1;
            }
            d if d.is_ascii_digit() && (i == 0 || !is_word_char(chars[i - 1])) => {
                let mut j = i;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let glued = chars.get(j).is_some_and(|c| is_word_char(*c));
                let number: String = chars[i..j].iter().collect();
                if !glued && number.len() >= LONG_NUMBER && !words.contains(&number) {
                    out.push_str(REMOVED);
                } else {
                    out.push_str(&number);
                }
                i = j;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The fragment quoted by `q` starting at `start` (a doubled quote inside is one quote),
/// the index after it, and whether it was closed (long values may be cut off by the
/// server before their closing quote).
fn quoted(chars: &[char], start: usize, q: char) -> (String, usize, bool) {
    let mut fragment = String::new();
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == q {
            if chars.get(j + 1) == Some(&q) {
                fragment.push(q);
                j += 2;
                continue;
            }
            return (fragment, j + 1, true);
        }
        fragment.push(chars[j]);
        j += 1;
    }
    (fragment, j, false)
}

/// Whether a quoted fragment is something the model wrote or harmless.
fn keep_fragment(
    fragment: &str,
    quote: char,
    before: &str,
    sql: &str,
    words: &HashSet<String>,
) -> bool {
    if fragment.is_empty() {
        return true;
    }
    if name_in_sql(fragment, words) {
        return true;
    }
    // The exact text of one of the statement's own literals or quoted names.
    if [quote, '\'', '"', '`']
        .iter()
        .any(|q| sql.contains(&format!("{q}{fragment}{q}")))
    {
        return true;
    }
    // A syntax error points at the statement's own text.
    let before = before.trim_end().to_ascii_lowercase();
    if before.ends_with(" near") && sql.contains(fragment) {
        return true;
    }
    if fragment.chars().count() <= 3 && fragment.chars().all(|c| c.is_ascii_punctuation()) {
        return true;
    }
    CLAUSE_PHRASES
        .iter()
        .any(|p| p.eq_ignore_ascii_case(fragment))
}

/// A (possibly dotted) name, optionally with a function's argument types
/// (`no_such_fn(integer, text)`), whose every part is a word of the statement.
fn name_in_sql(fragment: &str, words: &HashSet<String>) -> bool {
    let name = match fragment.split_once('(') {
        Some((name, args)) => {
            let args_ok = args.strip_suffix(')').is_some_and(|a| {
                a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " _,[]\"".contains(c))
            });
            if !args_ok {
                return false;
            }
            name
        }
        None => fragment,
    };
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut cs = part.chars();
            cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && cs.all(is_word_char)
                && words.contains(&part.to_lowercase())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "alice@example.com";

    #[track_caller]
    fn clean(message: &str, sql: &str) -> String {
        let out = scrub_db_message(message, sql);
        assert!(!out.contains("alice"), "{out}");
        out
    }

    #[test]
    fn postgres_messages() {
        let sql = "SELECT name FROM customers WHERE email::int = 1";
        assert_eq!(
            clean(
                &format!("invalid input syntax for type integer: \"{SECRET}\""),
                sql
            ),
            "invalid input syntax for type integer: \"…\""
        );
        assert_eq!(
            clean(
                &format!("invalid input syntax for type uuid: \"{SECRET}\""),
                sql
            ),
            "invalid input syntax for type uuid: \"…\""
        );
        // psql-style text with DETAIL and CONTEXT lines.
        assert_eq!(
            clean(
                "invalid input syntax for type json\nDETAIL:  Token \"alice\" is invalid.\n\
                 CONTEXT:  JSON data, line 1: {\"a\": alice...",
                "SELECT payload::json FROM events",
            ),
            "invalid input syntax for type json"
        );
        // A value that is one of the statement's words stays ("YYYY"); the data does not.
        assert_eq!(
            clean(
                "invalid value \"alic\" for \"YYYY\"",
                "SELECT to_date(email, 'YYYY-MM-DD') FROM customers"
            ),
            "invalid value \"…\" for \"YYYY\""
        );
        assert_eq!(
            clean(
                "duplicate key value violates unique constraint \"customers_email_key\" Key (email)=(alice@example.com) already exists.",
                "SELECT 1"
            ),
            "duplicate key value violates unique constraint \"…\" Key (email)=(…) already exists."
        );
        assert_eq!(
            clean(
                "date/time field value out of range: \"2024-13-45 alice\"",
                "SELECT d::timestamp FROM t"
            ),
            "date/time field value out of range: \"…\""
        );
        // What the model wrote and needs stays.
        let sql = "SELECT contry, no_such_fn(1) FROM customers c";
        assert_eq!(
            scrub_db_message("column \"contry\" does not exist", sql),
            "column \"contry\" does not exist"
        );
        assert_eq!(
            scrub_db_message(
                "column \"c.contry\" must appear in the GROUP BY clause",
                sql
            ),
            "column \"c.contry\" must appear in the GROUP BY clause"
        );
        assert_eq!(
            scrub_db_message("function no_such_fn(integer) does not exist", sql),
            "function no_such_fn(integer) does not exist"
        );
        assert_eq!(
            scrub_db_message("syntax error at or near \"FROM\"", sql),
            "syntax error at or near \"FROM\""
        );
        assert_eq!(
            scrub_db_message("division by zero", sql),
            "division by zero"
        );
        assert_eq!(
            scrub_db_message("operator does not exist: text = integer", sql),
            "operator does not exist: text = integer"
        );
    }

    #[test]
    fn mysql_messages() {
        let sql = "SELECT name FROM customers WHERE email + 0 = 1";
        assert_eq!(
            clean(
                &format!("Truncated incorrect DOUBLE value: '{SECRET}'"),
                sql
            ),
            "Truncated incorrect DOUBLE value: '…'"
        );
        assert_eq!(
            clean(
                &format!(
                    "Incorrect datetime value: '{SECRET}' for column `shop`.`customers`.`signup` at row 1"
                ),
                "SELECT name FROM customers WHERE signup = email"
            ),
            "Incorrect datetime value: '…' for column `…`.`customers`.`signup` at row 1"
        );
        // Servers cut long values before the closing quote.
        assert_eq!(
            clean(
                "Truncated incorrect INTEGER value: 'alice@example.com and more",
                sql
            ),
            "Truncated incorrect INTEGER value: '…"
        );
        assert_eq!(
            scrub_db_message(
                "Unknown column 'contry' in 'field list'",
                "SELECT contry FROM t"
            ),
            "Unknown column 'contry' in 'field list'"
        );
        assert_eq!(
            scrub_db_message(
                "Unknown column 'contry' in 'SELECT'",
                "SELECT contry FROM t"
            ),
            "Unknown column 'contry' in 'SELECT'"
        );
        // A literal the model wrote is its own.
        assert_eq!(
            scrub_db_message(
                "Incorrect DATE value: '2024-02-30'",
                "SELECT * FROM t WHERE d = '2024-02-30'"
            ),
            "Incorrect DATE value: '2024-02-30'"
        );
        // Syntax errors quote the statement itself.
        assert_eq!(
            scrub_db_message(
                "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'FROMM t LIMIT 11' at line 1",
                "SELECT a FROMM t LIMIT 11"
            ),
            "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'FROMM t LIMIT 11' at line 1"
        );
        assert_eq!(
            clean(
                "Duplicate entry 'alice@example.com' for key 'customers_email'",
                sql
            ),
            "Duplicate entry '…' for key '…'"
        );
    }

    #[test]
    fn sqlite_messages() {
        let sql = "SELECT json_extract(notes, '$.a') FROM customers";
        assert_eq!(scrub_db_message("malformed JSON", sql), "malformed JSON");
        assert_eq!(
            scrub_db_message("no such column: contry", "SELECT contry FROM t"),
            "no such column: contry"
        );
        assert_eq!(
            scrub_db_message("bad JSON path: '$.a'", sql),
            "bad JSON path: '$.a'"
        );
        assert_eq!(
            scrub_db_message("bad JSON path: '$.secret_path'", sql),
            "bad JSON path: '…'"
        );
        assert_eq!(
            scrub_db_message("string or blob too big", sql),
            "string or blob too big"
        );
    }

    #[test]
    fn long_numbers_that_are_not_in_the_sql_go() {
        assert_eq!(
            scrub_db_message(
                "value 4111111111111111 out of range near row 12 of 123456",
                "SELECT card FROM t LIMIT 123456"
            ),
            "value … out of range near row 12 of 123456"
        );
        // Digits inside words are names, not values.
        assert_eq!(
            scrub_db_message(
                "column \"x1234567\" does not exist",
                "SELECT x1234567 FROM t"
            ),
            "column \"x1234567\" does not exist"
        );
    }

    #[test]
    fn db_errors_show_everything_to_clients_and_little_to_providers() {
        use crate::query::{DbError, DbErrorCode};

        let e = DbError {
            code: DbErrorCode::Postgres {
                sqlstate: "23505".into(),
            },
            message: "duplicate key value violates unique constraint \"customers_email_key\""
                .into(),
            detail: Some(format!("Key (email)=({SECRET}) already exists.")),
            hint: Some("Perhaps you meant \"alice\".".into()),
        };
        assert_eq!(
            e.to_string(),
            "duplicate key value violates unique constraint \"customers_email_key\" \
             (Key (email)=(alice@example.com) already exists.); hint: Perhaps you meant \
             \"alice\". [SQLSTATE 23505]"
        );
        assert_eq!(
            e.for_provider("SELECT email FROM customers"),
            "SQLSTATE 23505: duplicate key value violates unique constraint \"…\" \
             (hint: Perhaps you meant \"…\".)"
        );
        let e = DbError {
            code: DbErrorCode::Mysql {
                number: 1292,
                sqlstate: "22007".into(),
            },
            message: format!("Truncated incorrect DOUBLE value: '{SECRET}'"),
            detail: None,
            hint: None,
        };
        assert_eq!(
            e.to_string(),
            "Truncated incorrect DOUBLE value: 'alice@example.com' [error 1292, SQLSTATE 22007]"
        );
        assert_eq!(
            e.for_provider("SELECT email + 0 FROM customers"),
            "MySQL error 1292 (SQLSTATE 22007): Truncated incorrect DOUBLE value: '…'"
        );
        let e = DbError {
            code: DbErrorCode::Sqlite {
                name: "SQLITE_ERROR".into(),
            },
            message: "malformed JSON".into(),
            detail: None,
            hint: None,
        };
        assert_eq!(e.to_string(), "malformed JSON");
        assert_eq!(
            e.for_provider("SELECT 1"),
            "SQLite SQLITE_ERROR: malformed JSON"
        );
        let e = DbError::querent("the statement would write to the database");
        assert_eq!(e.for_provider("SELECT 1"), e.to_string());
    }

    #[test]
    fn names_the_model_did_not_write_go() {
        // A name-shaped value (a cast to regclass, say) is not in the statement.
        assert_eq!(
            scrub_db_message(
                "relation \"alice\" does not exist",
                "SELECT email::regclass FROM customers"
            ),
            "relation \"…\" does not exist"
        );
        assert_eq!(
            scrub_db_message("a \"doubled \"\" quote\" here", "SELECT 1"),
            "a \"…\" here"
        );
    }
}
