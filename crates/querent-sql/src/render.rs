//! Printing a checked statement as text, with the target's own rules for literals and
//! identifiers, and proving that the text means what the guard checked.
//!
//! sqlparser's `Display` re-escapes string literals with a heuristic that does not know
//! the dialect (a backslash before a quote, or a doubled quote, is printed as it was), so
//! on MySQL/MariaDB `'a\\'` would come out as `'a\'`: an unterminated string that swallows
//! the rest of the statement. Here every literal and quoted identifier is printed by the
//! guard itself:
//!
//! - PostgreSQL: `'…'` with quotes doubled; a string with a backslash becomes `E'…'` with
//!   backslashes doubled, which means the same whatever `standard_conforming_strings` says.
//! - MySQL/MariaDB: `'…'` with quotes doubled and backslashes doubled. Doubled quotes close
//!   nothing in either backslash mode, so a session with `NO_BACKSLASH_ESCAPES` could only
//!   see a different value, never a different statement (the executor also turns that mode
//!   off).
//! - SQLite: `'…'` with quotes doubled.
//! - Identifiers: the dialect's quote character with the quote doubled.
//!
//! Comments, optimizer hints and anything else the parser skipped are not in the AST, so
//! they are not in the text. Finally [`substitute_print_and_verify`] parses the text again in the target's
//! dialect and checks that it is the same statement with the same literal values; if not,
//! the statement is refused instead of run.
//!
//! Nothing here clones, compares or drops more than the parser built: sqlparser's derived
//! `Clone` and `PartialEq` recurse with large frames and would overflow the stack on long
//! operator chains in debug builds, while its visitors and `Display` do not. So printing
//! works in place and puts the original literals back afterwards, and the comparison is
//! made on the printed forms of both statements with every literal and identifier spelled
//! in one unambiguous way.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use querent_domain::Dialect;
use sqlparser::ast::{
    Ident, Query, Statement, TableFactor, Value, ValueWithSpan, VisitMut, VisitorMut,
};

use crate::GuardError;
use crate::check::Substitute;
use crate::names::is_plain_word;
use crate::rules::rules;

/// Prints `query` for `dialect` (into a buffer of `capacity` bytes to start with). The
/// query is left as it was.
pub(crate) fn print(
    dialect: Dialect,
    query: &mut Query,
    capacity: usize,
) -> Result<String, GuardError> {
    let mut printer = Printer {
        dialect,
        values: Vec::new(),
        idents: Vec::new(),
    };
    let outcome = query.visit(&mut printer);
    let text = match outcome {
        ControlFlow::Continue(()) => Ok(display(query, capacity)),
        ControlFlow::Break(e) => Err(e),
    };
    let _ = query.visit(&mut Restore {
        values: printer.values.into_iter(),
        idents: printer.idents.into_iter(),
    });
    text
}

/// Substitutes the table references of `query` (the checker's [`Substitute`] walk), prints
/// the result for `dialect`, as [`print`] does, and proves that the text parses in
/// `dialect` to the same statement: the text parsed again and `query` must have the same
/// canonical form ([`canonical`]).
///
/// Substitution and printing share one walk: the substitution replaces a table factor
/// before its children are visited, so the printer sees every node of the substituted
/// query in the order a walk of its own would (the same text). `query` is used up in the
/// process: the walk that puts its literals and identifiers back after printing spells
/// each canonically at once (the same result as putting them back, then [`canonical`]).
pub(crate) fn substitute_print_and_verify(
    dialect: Dialect,
    query: &mut Query,
    substitute: Substitute<'_, '_>,
    capacity: usize,
) -> Result<String, GuardError> {
    let mut walk = SubstituteThenPrint {
        substitute,
        printer: Printer {
            dialect,
            values: Vec::new(),
            idents: Vec::new(),
        },
    };
    if let ControlFlow::Break(e) = query.visit(&mut walk) {
        return Err(e);
    }
    let printer = walk.printer;
    let text = display(query, capacity);
    let _ = query.visit(&mut RestoreCanonical {
        dialect,
        restore: Restore {
            values: printer.values.into_iter(),
            idents: printer.idents.into_iter(),
        },
    });
    let expected = display(query, text.len() * 2);
    let mut again = match crate::guard::parse(dialect, &text) {
        Ok(mut statements) if statements.len() == 1 => match statements.remove(0) {
            Statement::Query(q) => q,
            _ => return Err(GuardError::Unrenderable),
        },
        _ => return Err(GuardError::Unrenderable),
    };
    if expected != canonical(dialect, &mut again, text.len() * 2) {
        return Err(GuardError::Unrenderable);
    }
    Ok(text)
}

/// `query` printed by sqlparser's `Display` into a buffer of `capacity` bytes to start
/// with (`to_string` starts empty and regrows as it writes).
fn display(query: &Query, capacity: usize) -> String {
    let mut text = String::with_capacity(capacity);
    // Writing into a String cannot fail.
    let _ = write!(text, "{query}");
    text
}

/// The checker's substitution and [`Printer`] in one walk.
struct SubstituteThenPrint<'s, 'a> {
    substitute: Substitute<'s, 'a>,
    printer: Printer,
}

impl VisitorMut for SubstituteThenPrint<'_, '_> {
    type Break = GuardError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<GuardError> {
        self.substitute.pre_visit_table_factor(factor)
    }

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<GuardError> {
        self.printer.pre_visit_value(value)
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<GuardError> {
        self.printer.pre_visit_ident(ident)
    }
}

/// Replaces every literal and identifier by its exact printed form, keeping the originals.
struct Printer {
    dialect: Dialect,
    values: Vec<Value>,
    idents: Vec<(String, Option<char>)>,
}

impl VisitorMut for Printer {
    type Break = GuardError;

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<GuardError> {
        match literal(self.dialect, &value.value) {
            Ok(text) => {
                self.values.push(std::mem::replace(
                    &mut value.value,
                    Value::Placeholder(text),
                ));
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<GuardError> {
        let printed = match ident.quote_style {
            Some(_) => self.dialect.quote_identifier(&ident.value),
            // Printed as it is, and left alone (so also by `Restore`).
            None if is_plain_word(&ident.value) => return ControlFlow::Continue(()),
            None => self
                .dialect
                .quote_identifier(&self.dialect.fold_unquoted(&ident.value)),
        };
        let value = std::mem::replace(&mut ident.value, printed);
        self.idents.push((value, ident.quote_style.take()));
        ControlFlow::Continue(())
    }
}

/// Puts back what [`Printer`] replaced, in the same visiting order.
struct Restore<V, I> {
    values: V,
    idents: I,
}

impl<V, I> VisitorMut for Restore<V, I>
where
    V: Iterator<Item = Value>,
    I: Iterator<Item = (String, Option<char>)>,
{
    type Break = ();

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        if let Some(v) = self.values.next() {
            value.value = v;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<()> {
        // `Printer` left plain unquoted words as they were; every identifier it printed
        // now holds quote characters, so it is no plain word.
        if ident.quote_style.is_none() && is_plain_word(&ident.value) {
            return ControlFlow::Continue(());
        }
        if let Some((value, quote)) = self.idents.next() {
            ident.value = value;
            ident.quote_style = quote;
        }
        ControlFlow::Continue(())
    }
}

/// The printed form of a literal, or the refusal for literals the guard does not print.
pub(crate) fn literal(dialect: Dialect, value: &Value) -> Result<String, GuardError> {
    let refuse = |what: &str| {
        Err(GuardError::Unsupported {
            feature: what.to_string(),
        })
    };
    let rules = rules(dialect);
    match value {
        Value::Number(n, false) if is_number(n) => Ok(n.clone()),
        Value::SingleQuotedString(s) => string(dialect, s, ""),
        Value::EscapedStringLiteral(s) | Value::UnicodeStringLiteral(s) if rules.escape_strings => {
            string(dialect, s, "")
        }
        Value::DollarQuotedString(d) if rules.dollar_strings => string(dialect, &d.value, ""),
        Value::DoubleQuotedString(s) if rules.double_quoted_strings => string(dialect, s, ""),
        Value::NationalStringLiteral(s) if rules.national_strings => string(dialect, s, "N"),
        Value::HexStringLiteral(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(format!("X'{h}'"))
        }
        Value::SingleQuotedByteStringLiteral(b)
            if rules.bit_strings && b.chars().all(|c| c == '0' || c == '1') =>
        {
            Ok(format!("B'{b}'"))
        }
        Value::Boolean(true) => Ok("TRUE".into()),
        Value::Boolean(false) => Ok("FALSE".into()),
        Value::Null => Ok("NULL".into()),
        Value::Placeholder(_) => refuse("query parameters ($1, ?, :name)"),
        _ => refuse("this kind of literal"),
    }
}

/// A number as the tokenizer reads it: digits, one optional point and exponent.
fn is_number(n: &str) -> bool {
    let mut chars = n.chars().peekable();
    let mut digits = 0;
    let mut point = false;
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c == '.' && !point {
            point = true;
        } else {
            break;
        }
        chars.next();
    }
    if digits == 0 {
        return false;
    }
    match chars.next() {
        None => true,
        Some('e' | 'E') => {
            if matches!(chars.peek(), Some('+' | '-')) {
                chars.next();
            }
            let rest: String = chars.collect();
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
        }
        Some(_) => false,
    }
}

fn string(dialect: Dialect, s: &str, prefix: &str) -> Result<String, GuardError> {
    if s.contains('\0') {
        return Err(GuardError::Unsupported {
            feature: "a NUL character in a string".into(),
        });
    }
    let literal = dialect.string_literal(s);
    if prefix.is_empty() {
        Ok(literal)
    } else if literal.starts_with('\'') {
        Ok(format!("{prefix}{literal}"))
    } else {
        // PostgreSQL writes a string with a backslash as `E'…'`, which takes no prefix.
        Err(GuardError::Unsupported {
            feature: "a backslash in a national string".into(),
        })
    }
}

/// The statement printed with every spelling difference that does not change its meaning
/// removed and every literal and identifier spelled in one unambiguous way (hex), so two
/// statements are the same exactly when these texts are.
fn canonical(dialect: Dialect, query: &mut Query, capacity: usize) -> String {
    let _ = query.visit(&mut Canonical { dialect });
    display(query, capacity)
}

struct Canonical {
    dialect: Dialect,
}

/// [`Restore`] and then [`Canonical`] in one walk: each literal and identifier
/// [`Printer`] replaced gets its original back and is spelled canonically.
struct RestoreCanonical<V, I> {
    dialect: Dialect,
    restore: Restore<V, I>,
}

impl<V, I> VisitorMut for RestoreCanonical<V, I>
where
    V: Iterator<Item = Value>,
    I: Iterator<Item = (String, Option<char>)>,
{
    type Break = ();

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        let _ = self.restore.pre_visit_value(value);
        canonical_value(value);
        ControlFlow::Continue(())
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<()> {
        // As in `Restore`: plain unquoted words were left as they were (and `Canonical`
        // leaves them too).
        if ident.quote_style.is_none() && is_plain_word(&ident.value) {
            return ControlFlow::Continue(());
        }
        let _ = self.restore.pre_visit_ident(ident);
        canonical_ident(self.dialect, ident);
        ControlFlow::Continue(())
    }
}

fn hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    push_hex(&mut out, s);
    out
}

/// Appends the bytes of `s` in lower-case hex.
fn push_hex(out: &mut String, s: &str) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in s.bytes() {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// Numbers, booleans and NULL print unambiguously as they are; every string kind becomes
/// its bytes in hex between quotes, with a letter for its kind.
fn canonical_value(value: &mut ValueWithSpan) {
    let spelled = match &value.value {
        Value::SingleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::UnicodeStringLiteral(s)
        | Value::DoubleQuotedString(s) => format!("'s{}'", hex(s)),
        Value::DollarQuotedString(d) => format!("'s{}'", hex(&d.value)),
        Value::NationalStringLiteral(s) => format!("'n{}'", hex(s)),
        Value::HexStringLiteral(s) => format!("'x{}'", hex(s)),
        Value::SingleQuotedByteStringLiteral(s) => format!("'b{}'", hex(s)),
        Value::Number(..) | Value::Boolean(_) | Value::Null => return,
        other => format!("'o{}'", hex(&other.to_string())),
    };
    value.value = Value::Placeholder(spelled);
}

/// A plain unquoted word prints as itself; anything else as its exact name in hex between
/// double quotes, which no plain word can look like.
fn canonical_ident(dialect: Dialect, ident: &mut Ident) {
    let folded;
    let exact = match ident.quote_style {
        Some(_) => ident.value.as_str(),
        None if is_plain_word(&ident.value) => return,
        None => {
            folded = dialect.fold_unquoted(&ident.value);
            folded.as_str()
        }
    };
    let mut spelled = String::with_capacity(exact.len() * 2 + 2);
    spelled.push('"');
    push_hex(&mut spelled, exact);
    spelled.push('"');
    ident.value = spelled;
    ident.quote_style = None;
}

impl VisitorMut for Canonical {
    type Break = ();

    fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        canonical_value(value);
        ControlFlow::Continue(())
    }

    fn pre_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<()> {
        canonical_ident(self.dialect, ident);
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_per_dialect() {
        let s = |d, v: &str| literal(d, &Value::SingleQuotedString(v.into())).unwrap();
        assert_eq!(s(Dialect::Postgres, "it's"), "'it''s'");
        assert_eq!(s(Dialect::Postgres, "a\\"), "E'a\\\\'");
        assert_eq!(s(Dialect::Mysql, "a\\"), "'a\\\\'");
        assert_eq!(s(Dialect::Mysql, "a''b"), "'a''''b'");
        assert_eq!(s(Dialect::Sqlite, "a\\'"), "'a\\'''");
        assert!(literal(Dialect::Postgres, &Value::Placeholder("$1".into())).is_err());
        assert!(literal(Dialect::Postgres, &Value::SingleQuotedString("a\0".into())).is_err());
        assert!(is_number("1") && is_number("1.5") && is_number(".5") && is_number("1e-3"));
        assert!(!is_number("1x") && !is_number("") && !is_number("e5") && !is_number("1e"));
        let national = |d, v: &str| literal(d, &Value::NationalStringLiteral(v.into()));
        assert_eq!(national(Dialect::Mysql, "a\\").unwrap(), "N'a\\\\'");
        assert_eq!(national(Dialect::Postgres, "it's").unwrap(), "N'it''s'");
        assert!(national(Dialect::Postgres, "a\\").is_err());
        assert!(national(Dialect::Sqlite, "a").is_err());
        assert_eq!(hex("a\u{e9}\"\0"), "61c3a92200");
        assert_eq!(hex(""), "");
    }
}
