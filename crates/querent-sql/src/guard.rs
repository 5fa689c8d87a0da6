//! The validation pipeline: parse, statement kind, scoped checks with wildcard expansion
//! (see [`crate::check`]), row cap, then two renderings — the statement as written
//! (normalised) and the text that runs, where governed tables are replaced by derived
//! tables — the latter proven to parse back to the same statement.

use querent_domain::Dialect;
use sqlparser::ast::{Expr, LimitClause, Query, SetExpr, Statement, Value};
use sqlparser::dialect::Dialect as SqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::check::Checker;
use crate::render::{print, substitute_print_and_verify};
use crate::rules::rules;
use crate::schema::{GuardPolicy, GuardSchema};
use crate::{GuardError, ValidatedSql};

/// How deeply the parser may recurse before the statement is refused as too deep.
pub const RECURSION_LIMIT: usize = 64;

/// The longest SQL text accepted, in bytes.
pub const MAX_SQL_LEN: usize = 64 * 1024;

/// The most operator tokens (`+`, `=`, `AND`, `::`, …) a statement may contain. Operator
/// chains build trees as deep as they are long, and walking a very deep tree would
/// overflow the stack; real analytic queries stay far below this.
pub const MAX_OPERATORS: usize = 2_000;

/// Validates one statement for `dialect` against `schema` and `policy`.
///
/// On success the statement is a single read-only query whose tables and columns exist,
/// which touches nothing the policy excludes, calls only allowed functions, and carries a
/// `LIMIT` of at most `max_rows + 1` when the policy has a row cap. See the crate
/// documentation for every check and rewrite.
pub fn validate(
    dialect: Dialect,
    sql: &str,
    schema: &GuardSchema,
    policy: &GuardPolicy,
) -> Result<ValidatedSql, GuardError> {
    if sql.len() > MAX_SQL_LEN {
        return Err(GuardError::TooLong {
            max_bytes: MAX_SQL_LEN,
        });
    }
    let mut statements = parse(dialect, sql)?;
    let mut statement = match statements.len() {
        0 => return Err(GuardError::Empty),
        1 => statements.remove(0),
        count => return Err(GuardError::MultipleStatements { count }),
    };
    let Statement::Query(query) = &mut statement else {
        return Err(GuardError::NotAQuery {
            kind: statement_kind(&statement),
        });
    };
    if let SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) =
        query.body.as_ref()
    {
        return Err(GuardError::NotAQuery {
            kind: statement_kind(s),
        });
    }
    let mut checker = Checker::new(dialect, schema, policy);
    let outputs = checker.check_query(query)?;
    let masked_columns = outputs
        .into_iter()
        .filter(|c| c.masked)
        .filter_map(|c| c.name)
        .collect();
    let row_limit = policy.max_rows.map(|max| cap_rows(query, max));
    let display = print(dialect, query, sql.len() + 32)?;
    let executable =
        substitute_print_and_verify(dialect, query, checker.substitution(), display.len() * 2)?;
    Ok(ValidatedSql {
        sql: display,
        executable,
        dialect,
        tables: checker.referenced(),
        max_rows: policy.max_rows,
        row_limit,
        masked_columns,
    })
}

/// Parses a row filter's predicate: one boolean expression.
pub(crate) fn parse_row_filter(dialect: Dialect, predicate: &str) -> Result<Expr, GuardError> {
    let parser_dialect = sql_dialect(dialect);
    let tokens = tokenize(parser_dialect.as_ref(), predicate)?;
    let mut parser = Parser::new(parser_dialect.as_ref())
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let expr = parser.parse_expr().map_err(to_guard)?;
    if parser.peek_token().token != Token::EOF {
        return Err(GuardError::Parse {
            message: "the row filter must be a single expression".into(),
        });
    }
    Ok(expr)
}

fn sql_dialect(dialect: Dialect) -> Box<dyn SqlDialect> {
    (rules(dialect).parser)()
}

fn to_guard(e: ParserError) -> GuardError {
    match e {
        ParserError::RecursionLimitExceeded => GuardError::TooDeep,
        other => GuardError::Parse {
            message: other.to_string(),
        },
    }
}

/// The most tokens a token buffer is sized for up front (it grows beyond when needed).
const TOKEN_CAPACITY: usize = 4096;

/// Tokenizes within the size and operator limits. Chains of binary operators (`1+1+…`)
/// build trees as deep as they are long without counting against the parser's recursion
/// limit, so their number is bounded first.
fn tokenize(
    parser_dialect: &dyn SqlDialect,
    sql: &str,
) -> Result<Vec<sqlparser::tokenizer::TokenWithSpan>, GuardError> {
    if sql.len() > MAX_SQL_LEN {
        return Err(GuardError::TooLong {
            max_bytes: MAX_SQL_LEN,
        });
    }
    // Sized for the usual one token per two or three bytes (whitespace included), so
    // the buffer is not regrown and copied while tokenizing; bounded for long texts.
    let mut tokens = Vec::with_capacity((sql.len() / 2 + 16).min(TOKEN_CAPACITY));
    Tokenizer::new(parser_dialect, sql)
        .tokenize_with_location_into_buf(&mut tokens)
        .map_err(|e| GuardError::Parse {
            message: e.to_string(),
        })?;
    if tokens.iter().filter(|t| is_operator(&t.token)).count() > MAX_OPERATORS {
        return Err(GuardError::TooDeep);
    }
    Ok(tokens)
}

pub(crate) fn parse(dialect: Dialect, sql: &str) -> Result<Vec<Statement>, GuardError> {
    let parser_dialect = sql_dialect(dialect);
    let tokens = tokenize(parser_dialect.as_ref(), sql)?;
    Parser::new(parser_dialect.as_ref())
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(to_guard)
}

/// Whether the token can join two expressions (or negate one).
fn is_operator(token: &Token) -> bool {
    match token {
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::AND
                | Keyword::OR
                | Keyword::NOT
                | Keyword::XOR
                | Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::RLIKE
                | Keyword::REGEXP
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::IN
                | Keyword::COLLATE
                | Keyword::DIV
                | Keyword::MOD
                | Keyword::AT
                | Keyword::OVERLAPS
                | Keyword::GLOB
                | Keyword::MATCH
                | Keyword::ESCAPE
        ),
        Token::Whitespace(_)
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Comma
        | Token::Period
        | Token::SemiColon
        | Token::LParen
        | Token::RParen
        | Token::EOF => false,
        _ => true,
    }
}

/// The first keyword of the statement, e.g. `INSERT`, `DROP`.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    text.split_whitespace()
        .next()
        .unwrap_or("statement")
        .to_ascii_uppercase()
}

/// Adds or lowers the outermost `LIMIT`/`FETCH` to `max_rows + 1`; returns the limit in force.
pub(crate) fn cap_rows(query: &mut Query, max_rows: u64) -> u64 {
    let cap = max_rows.saturating_add(1);
    let number = |e: &Expr| -> Option<u64> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        }
    };
    let cap_expr = || Expr::value(Value::Number(cap.to_string(), false));
    if let Some(fetch) = &mut query.fetch {
        if query.limit_clause.is_none() {
            if let Some(n) = fetch.quantity.as_ref().and_then(number)
                && n <= cap
                && !fetch.percent
            {
                return n;
            }
            // Rewrite FETCH as LIMIT, which all three dialects understand.
            if fetch.percent || fetch.with_ties || fetch.quantity.is_none() {
                query.fetch = None;
            } else {
                fetch.quantity = Some(cap_expr());
                return cap;
            }
        } else {
            query.fetch = None;
        }
    }
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(cap_expr()),
                offset: None,
                limit_by: Vec::new(),
            });
            cap
        }
        Some(LimitClause::LimitOffset { limit, .. }) => match limit.as_ref().and_then(number) {
            Some(n) if n <= cap => n,
            _ => {
                *limit = Some(cap_expr());
                cap
            }
        },
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => match number(limit) {
            Some(n) if n <= cap => n,
            _ => {
                *limit = cap_expr();
                cap
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::PostgreSqlDialect;

    use super::*;

    fn query(sql: &str) -> Box<Query> {
        match parse(Dialect::Postgres, sql).unwrap().remove(0) {
            Statement::Query(q) => q,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn cap_rows_adds_lowers_and_keeps() {
        let mut q = query("SELECT 1");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 500");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 3");
        assert_eq!(cap_rows(&mut q, 10), 3);
        let mut q = query("SELECT 1 LIMIT 11");
        assert_eq!(cap_rows(&mut q, 10), 11);
        let mut q = query("SELECT 1 LIMIT 1 + 1");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 FETCH FIRST 50 PERCENT ROWS ONLY");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 5");
        assert_eq!(cap_rows(&mut q, u64::MAX), 5);
        let mut q = query("SELECT 1");
        assert_eq!(cap_rows(&mut q, u64::MAX), u64::MAX);
    }

    #[test]
    fn operators_are_counted() {
        let tokens = Tokenizer::new(
            &PostgreSqlDialect {},
            "SELECT a + b::int FROM t WHERE a AND NOT b, 'x' || 'y'",
        )
        .tokenize()
        .unwrap();
        assert_eq!(tokens.iter().filter(|t| is_operator(t)).count(), 5);
    }

    #[test]
    fn statement_kinds() {
        let kind = |sql: &str| statement_kind(&parse(Dialect::Postgres, sql).unwrap().remove(0));
        assert_eq!(kind("drop table t"), "DROP");
        assert_eq!(kind("insert into t values (1)"), "INSERT");
        assert_eq!(kind("set x = 1"), "SET");
    }
}
