//! # querent-sql
//!
//! The safety core (design §4): parses SQL with sqlparser for the connection's dialect and
//! lets through only a single read-only query whose tables and columns exist and which the
//! privacy policy allows. The result is a [`ValidatedSql`], the only thing querent-exec
//! will run.
//!
//! Depends on: querent-domain and sqlparser only, so it can be embedded on its own.
//!
//! Must never: execute SQL, open connections, depend on any other querent crate, or hand out
//! a [`ValidatedSql`] that did not pass every check.
//!
//! Everything the guard does differently per dialect is decided in one table, the `rules`
//! module (capability flags and the allow-lists that apply, one value per dialect); facts
//! that are not the guard's to decide (identifier quoting and folding, reserved words,
//! string literals) are methods of [`Dialect`].
//!
//! ## Example
//!
//! ```
//! use querent_sql::{Dialect, GuardPolicy, GuardSchema, GuardTable, validate};
//!
//! let schema = GuardSchema::new(vec![GuardTable {
//!     schema: Some("public".into()),
//!     name: "customers".into(),
//!     columns: vec!["id".into(), "name".into(), "ssn".into()],
//! }]);
//! let policy = GuardPolicy {
//!     excluded_columns: vec!["customers.ssn".into()],
//!     ..GuardPolicy::default()
//! };
//! let checked = validate(Dialect::Postgres, "SELECT * FROM customers", &schema, &policy)?;
//! assert_eq!(checked.sql(), "SELECT id, name FROM customers");
//! assert!(validate(Dialect::Postgres, "SELECT ssn FROM customers", &schema, &policy).is_err());
//! # Ok::<(), querent_sql::GuardError>(())
//! ```
//!
//! ## What [`validate`] does
//!
//! - **Parses** with the dialect's sqlparser dialect under a recursion limit
//!   ([`RECURSION_LIMIT`]), a size limit ([`MAX_SQL_LEN`]) and a cap on operator tokens
//!   ([`MAX_OPERATORS`]), so hostile nesting is an error rather than a stack overflow.
//!   Exactly one statement, and only a query (`SELECT`/`WITH`/`VALUES`/set operations):
//!   DML, DDL, `SET`, `COPY`, `CALL`, `PRAGMA`, `ATTACH`, transactions, `EXPLAIN`, data-
//!   modifying CTEs, `SELECT … INTO`, locking clauses, optimizer hints and select modifiers
//!   are refused.
//! - **Deny by default.** Every expression form, operator, cast type and literal kind is
//!   checked against what the guard knows how to check; everything else is refused as
//!   unsupported. Functions must be on the dialect's reviewed allow-list (the `functions`
//!   module): nothing that executes SQL text, touches files or the network, takes locks,
//!   uses sequences, changes session or server state, or reads catalogs is on it, so an
//!   unknown function is a `policy_violation` naming it, however it is spelled
//!   (`pg_catalog.f`, `"f"`, `F`). Some functions carry argument rules (a unit keyword in
//!   `TIMESTAMPDIFF(DAY, …)`; bounded sizes in `repeat`, `lpad`, `space`; bounded widths
//!   in `printf`/`format`). Casts to types whose input reads catalogs (`regclass`, …) are
//!   refused. Catalog schemas and tables (`pg_catalog`, `information_schema`, `mysql`,
//!   `performance_schema`, `sys`, `sqlite_*`, `pragma_*`) are refused unless
//!   [`GuardPolicy::allow_catalogs`] is set.
//! - **Names are resolved for certain**, the way the database does: tables against the
//!   [`GuardSchema`] (or a CTE in scope), columns through the full chain of scopes — the
//!   select's own `FROM`, then each enclosing query's (correlated references), with
//!   select-list aliases where the dialect makes them visible. Every source must have known
//!   columns (schema tables, CTEs, derived tables, `VALUES`, the allowed table functions
//!   with their known columns, `JSON_TABLE`); a name the guard cannot resolve is refused,
//!   never passed. Unknown names come back with up to three "did you mean" suggestions
//!   (never excluded objects); an unqualified column that two sources share is
//!   [`GuardError::AmbiguousColumn`]. SQLite's `rowid` is a column of every table.
//! - **Policy by name**: excluded tables and columns are refused wherever they are named.
//! - **`*` and `t.*`** expand to the allowed columns in catalog order (qualified when the
//!   `FROM` has several sources); over `USING`/`NATURAL` joins `*` stays as written.
//! - **Row cap**: with [`GuardPolicy::max_rows`], the outermost query gets
//!   `LIMIT max_rows + 1` (added, or lowered when larger or not a number).
//! - **Policy by table substitution** in the text that runs ([`ValidatedSql::executable`]):
//!   every reference to a table the policy governs (excluded or masked columns, row
//!   filters) becomes a derived table that exposes only the allowed columns, computes
//!   masked ones as `CASE WHEN c IS NULL THEN NULL ELSE '****' END` inside it and applies
//!   row filters inside it (fenced so no outer condition runs before them); the outer query
//!   keeps its aliases and shape. No expression, function, subquery, cast, `LATERAL`,
//!   error message or plan can see a raw protected value, whatever the query does. Every
//!   other table is referenced by its exact, schema-qualified catalog name, so the
//!   database reads the table the guard checked whatever its search path.
//! - **Rendered, never passed through**: both texts are printed from the AST with the
//!   dialect's own literal and identifier rules (the `render` module), so comments,
//!   hints and executable comments (`/*! … */`, `/*M! … */`) never reach a server, and the
//!   text that runs is parsed again and must be the same statement with the same literal
//!   values, or it is refused.
//!
//! Masked values are text, so an outer query that computes on a masked number or date, or
//! a set operation that mixes it with numbers, fails in the database; filtering or joining
//! on a masked column compares the mask, not the value.

mod check;
mod functions;
mod guard;
mod names;
mod render;
mod rules;
mod schema;

pub use guard::{MAX_OPERATORS, MAX_SQL_LEN, RECURSION_LIMIT, validate};
pub use querent_domain::{Dialect, ErrorCode};
pub use schema::{GuardPolicy, GuardSchema, GuardTable, RowFilter};

use serde::Serialize;

/// Why the guard refused a statement. Messages are meant to be shown to people and fed
/// back to an LLM provider for self-correction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The text is not valid SQL in the connection's dialect.
    #[error("could not parse the SQL: {message}")]
    Parse {
        /// The parser's message.
        message: String,
    },
    /// There was no statement at all.
    #[error("no SQL statement given")]
    Empty,
    /// More than one statement was given; exactly one is allowed.
    #[error("exactly one statement is allowed, found {count}")]
    MultipleStatements {
        /// How many statements were found.
        count: usize,
    },
    /// The statement is not a read-only query (e.g. `INSERT`, `DROP`, `SET`).
    #[error("only read-only queries are allowed, not {kind}")]
    NotAQuery {
        /// What kind of statement it was, e.g. `INSERT`.
        kind: String,
    },
    /// A `WITH` clause contains an `INSERT`, `UPDATE`, `DELETE` or `MERGE`.
    #[error("data-modifying statements inside WITH are not allowed")]
    DataModifyingCte,
    /// `SELECT … INTO` creates a table.
    #[error("SELECT INTO is not allowed")]
    SelectInto,
    /// `FOR UPDATE`, `FOR SHARE` and similar take locks.
    #[error("locking clauses (FOR UPDATE/SHARE) are not allowed")]
    LockingClause,
    /// A function that is not on the dialect's allow-list.
    #[error("function `{name}` is not allowed")]
    FunctionNotAllowed {
        /// The function as written.
        name: String,
    },
    /// An allowed function called with arguments outside its rule.
    #[error("{function}: {detail}")]
    FunctionArgument {
        /// The function as written.
        function: String,
        /// What the argument must be.
        detail: String,
    },
    /// A catalog schema or table (`pg_catalog`, `information_schema`, `mysql.*`, …).
    #[error("`{name}` is a system catalog, which this connection does not allow")]
    CatalogNotAllowed {
        /// The table as written.
        name: String,
    },
    /// A cast or typed literal to a type that is not allowed (`regclass`, user types…).
    #[error("casting to `{name}` is not allowed")]
    TypeNotAllowed {
        /// The type as written.
        name: String,
    },
    /// A table that the schema snapshot does not have.
    #[error("unknown table `{name}`{}", did_you_mean(suggestions))]
    UnknownTable {
        /// The table as written.
        name: String,
        /// Existing tables with similar names, best first.
        suggestions: Vec<String>,
    },
    /// A column that none of the tables in scope has.
    #[error("unknown column `{name}`{}", did_you_mean(suggestions))]
    UnknownColumn {
        /// The column as written (possibly qualified).
        name: String,
        /// Existing columns with similar names, best first.
        suggestions: Vec<String>,
    },
    /// An unqualified column that more than one table in scope has.
    #[error("column `{name}` is ambiguous: qualify it with one of {}", candidates.join(", "))]
    AmbiguousColumn {
        /// The column as written.
        name: String,
        /// The tables that have it.
        candidates: Vec<String>,
    },
    /// The statement touches a table or column that the privacy policy excludes.
    #[error("`{object}` is excluded by the connection's privacy policy")]
    PolicyViolation {
        /// The excluded table or column.
        object: String,
    },
    /// The statement nests deeper than the parser's recursion limit.
    #[error("the statement is nested too deeply")]
    TooDeep,
    /// The SQL text is longer than the guard accepts.
    #[error("the statement is too long (at most {max_bytes} bytes)")]
    TooLong {
        /// The limit, in bytes.
        max_bytes: usize,
    },
    /// The policy itself is invalid (e.g. a row filter that does not parse).
    #[error("the connection's policy is invalid: {detail}")]
    InvalidPolicy {
        /// What is wrong.
        detail: String,
    },
    /// The statement could not be printed as text that provably means the same.
    #[error("the statement cannot be rendered faithfully for this database; simplify it")]
    Unrenderable,
    /// The query uses a construct the guard cannot check yet, so it is refused.
    #[error("not supported by the SQL guard: {feature}")]
    Unsupported {
        /// The construct.
        feature: String,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl querent_domain::HasErrorCode for GuardError {
    /// The stable error code a client sees for this refusal.
    fn code(&self) -> ErrorCode {
        match self {
            GuardError::PolicyViolation { .. }
            | GuardError::FunctionNotAllowed { .. }
            | GuardError::CatalogNotAllowed { .. }
            | GuardError::TypeNotAllowed { .. } => ErrorCode::PolicyViolation,
            _ => ErrorCode::GuardRejected,
        }
    }
}

/// SQL that passed every check of the guard, in two renderings: [`ValidatedSql::sql`], the
/// statement as the caller wrote it (normalised: wildcards expanded, row cap applied), for
/// people, history and caches; and [`ValidatedSql::executable`], the text a database runs,
/// with governed tables substituted and every table referenced by its exact name.
///
/// Only the guard in this crate builds one: there is no public constructor and no
/// `Deserialize`, so holding a `ValidatedSql` proves the statement was checked. querent-exec
/// runs nothing but [`ValidatedSql::executable`]. It serializes (for responses and logs)
/// but cannot be read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidatedSql {
    pub(crate) sql: String,
    pub(crate) executable: String,
    pub(crate) dialect: Dialect,
    pub(crate) tables: Vec<String>,
    pub(crate) max_rows: Option<u64>,
    pub(crate) row_limit: Option<u64>,
    pub(crate) masked_columns: Vec<String>,
}

impl ValidatedSql {
    /// The statement as written, normalised (wildcards expanded, row cap applied): what
    /// people see and edit, and what is stored. Validating it again gives the same
    /// statement.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The text to send to the database: [`ValidatedSql::sql`] with every table the policy
    /// governs replaced by a derived table that shows only what the policy allows, printed
    /// with the dialect's literal rules and proven to parse back to the same statement.
    pub fn executable(&self) -> &str {
        &self.executable
    }

    /// The dialect it was validated for.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The schema tables the statement reads (`schema.name` or `name`), sorted, without
    /// CTE names.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// The policy's row cap (`u64::MAX` when there is none): a result with more rows than
    /// this was truncated.
    pub fn max_rows(&self) -> u64 {
        self.max_rows.unwrap_or(u64::MAX)
    }

    /// The `LIMIT` in force on the outermost query: at most `max_rows + 1`, lower when the
    /// statement asked for fewer rows; `u64::MAX` without a row cap.
    pub fn row_limit(&self) -> u64 {
        self.row_limit.unwrap_or(u64::MAX)
    }

    /// Output column labels whose values come from masked columns (policy
    /// `masked_column_patterns`), so callers can flag them in result metadata.
    pub fn masked_columns(&self) -> &[String] {
        &self.masked_columns
    }

    /// Whether a result of `rows` rows was cut off by the row cap.
    pub fn is_truncated(&self, rows: u64) -> bool {
        rows > self.max_rows()
    }

    /// PostgreSQL only: [`ValidatedSql::executable`] wrapped so that the server cuts long
    /// values before they are sent, since its client library holds a whole row in memory
    /// before anyone can look at it (`string_agg` over many rows builds one huge value).
    /// `columns` are the result's columns (name and how to cut them, from the statement's
    /// description); text is cut to `max_chars` characters, bytes to `max_chars` bytes,
    /// JSON too long becomes a JSON string of its first characters, other variable-length
    /// values (arrays, composites, ranges…) become JSON, cut the same way when too long.
    /// `None` for other dialects or when no column needs cutting.
    pub fn with_value_caps(
        &self,
        columns: &[(String, ValueCut)],
        max_chars: u64,
    ) -> Option<String> {
        if !rules::rules(self.dialect).value_caps
            || columns.iter().all(|(_, cut)| *cut == ValueCut::Keep)
        {
            return None;
        }
        // `executable` parsed back as one complete statement, so it holds no open string,
        // comment or parenthesis: it can be nested as a derived table as it is.
        let mut select = String::from("SELECT ");
        let mut names = String::new();
        for (i, (name, cut)) in columns.iter().enumerate() {
            let alias = format!("c{}", i + 1);
            if i > 0 {
                select.push_str(", ");
                names.push_str(", ");
            }
            names.push_str(&alias);
            let v = format!("querent_values.{alias}");
            let n = max_chars;
            let too_long = format!("octet_length(CAST({v} AS TEXT)) > {n}");
            let expr = match cut {
                ValueCut::Keep => v,
                ValueCut::Text => format!("left({v}, {n})"),
                ValueCut::TextCast => format!("left(CAST({v} AS TEXT), {n})"),
                ValueCut::Bytes => format!("substring({v} FROM 1 FOR {n})"),
                ValueCut::Json => format!(
                    "CASE WHEN {too_long} THEN to_json(left(CAST({v} AS TEXT), {n})) ELSE {v} END"
                ),
                ValueCut::Jsonb => format!(
                    "CASE WHEN {too_long} THEN to_jsonb(left(CAST({v} AS TEXT), {n})) ELSE {v} END"
                ),
                ValueCut::AsJson => format!(
                    "CASE WHEN {too_long} THEN to_jsonb(left(CAST({v} AS TEXT), {n})) ELSE to_jsonb({v}) END"
                ),
            };
            select.push_str(&expr);
            select.push_str(" AS ");
            select.push_str(&self.dialect.quote_identifier(name));
        }
        Some(format!(
            "{select} FROM ({}) AS querent_values ({names})",
            self.executable
        ))
    }
}

/// How [`ValidatedSql::with_value_caps`] cuts one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueCut {
    /// A fixed-size value (numbers, dates, booleans, uuids…): left as it is.
    Keep,
    /// Text (`text`, `varchar`, `char`, `name`…): its first characters.
    Text,
    /// A value whose text form is what is shown (`xml`, `citext`, enums…): cast to text,
    /// then cut.
    TextCast,
    /// Bytes (`bytea`): its first bytes.
    Bytes,
    /// `json`: as it is, or a JSON string of its first characters when too long.
    Json,
    /// `jsonb`: likewise.
    Jsonb,
    /// Anything else of variable length (arrays, composites, ranges…): as JSON, or a JSON
    /// string of its text's first characters when too long.
    AsJson,
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::HasErrorCode as _;

    #[test]
    fn messages_carry_suggestions_and_codes() {
        let e = GuardError::UnknownTable {
            name: "custmers".into(),
            suggestions: vec!["customers".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown table `custmers`; did you mean customers?"
        );
        assert_eq!(e.code(), ErrorCode::GuardRejected);
        let e = GuardError::UnknownColumn {
            name: "x".into(),
            suggestions: vec![],
        };
        assert_eq!(e.to_string(), "unknown column `x`");
        let e = GuardError::PolicyViolation {
            object: "users.password".into(),
        };
        assert_eq!(e.code(), ErrorCode::PolicyViolation);
    }
}
