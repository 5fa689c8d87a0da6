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
//! ## What [`validate`] does now
//!
//! - Parses with the dialect's sqlparser dialect under a recursion limit
//!   ([`RECURSION_LIMIT`]), a size limit ([`MAX_SQL_LEN`]) and a cap on operator tokens
//!   ([`MAX_OPERATORS`]), so hostile nesting is an error rather than a stack overflow.
//! - Exactly one statement, and only a query (`SELECT`/`WITH`/`VALUES`/set operations);
//!   everything else (DML, DDL, `SET`, `COPY`, `CALL`, `PRAGMA`, `ATTACH`, `GRANT`,
//!   transactions, `EXPLAIN`, …) is refused.
//! - No data-modifying CTE or subquery, no `SELECT … INTO`, no locking clause, and no
//!   function from the dialect's deny-list (plus every `pg_*` function outside a small
//!   allow-list), wherever it appears, schema-qualified or not, in any letter case.
//! - Every table must exist in the [`GuardSchema`] (looked up through a case-insensitive
//!   name index, so schemas with tens of thousands of tables stay fast) unless a CTE of that
//!   name is in scope; qualified column references must exist in the table they name;
//!   unqualified ones must exist in a table of the enclosing `FROM` scopes or be a
//!   select-list alias. The guard works out the output columns of CTEs and derived tables
//!   where it can (explicit columns and aliases), and checks references to them the same way;
//!   scopes that include a source whose columns it does not know (a table function, `*` that
//!   could not be expanded, an unaliased expression) are checked permissively. Unknown names
//!   come back with up to three "did you mean" suggestions (never excluded objects).
//! - An unqualified column that several sources of the same `FROM` scope have is
//!   [`GuardError::AmbiguousColumn`], unless it is a select-list alias, a `USING` column, the
//!   scope has a `NATURAL` join, or (in a PostgreSQL or MySQL `ORDER BY`) it names an output
//!   column.
//! - The [`GuardPolicy`]: excluded tables and columns are refused wherever they appear
//!   (also as whole-row references such as `row_to_json(c)`, `row_to_json(c.*)`, `ROW(c.*)`).
//! - `*` and `t.*` over sources whose columns the guard knows (schema tables, CTEs, derived
//!   tables) are replaced by the explicit column list in catalog order, qualified by the
//!   alias or table name when the `FROM` has several sources, without excluded columns.
//!   A wildcard it cannot expand (over a table function, a `USING`/`NATURAL` join, a table
//!   with column aliases, or with dialect options such as `EXCEPT`) stays as written, unless
//!   a schema table under it has an excluded column (refused as a policy violation) or, in a
//!   select whose rows reach the result, a masked one (refused as unsupported). `COUNT(*)`
//!   is not touched.
//! - Masking (`masked_column_patterns`, see [`GuardPolicy::column_masked`]): in every select whose rows can reach the result —
//!   the outermost one, CTEs, derived tables, each branch of a set operation and subqueries
//!   in a select list — a select-list item that references a masked column outside
//!   `COUNT(…)` becomes `CASE WHEN (<expr>) IS NULL THEN NULL ELSE '****' END AS <label>`
//!   (label: the item's alias, the column name for a bare column, otherwise the dialect's
//!   usual name for the expression). Masked columns stay usable in `WHERE`, `JOIN`,
//!   `GROUP BY`, `HAVING`, `ORDER BY` and in subqueries there, which only filter. A bare
//!   reference to an already masked CTE/derived column is not masked twice, nor is SQL the
//!   guard already masked. `GROUP BY <alias>` and `GROUP BY <position>` pointing at a masked
//!   item are rewritten to the original expression so the groups stay the same. In
//!   PostgreSQL, which wants matching column types across set-operation branches, the other
//!   branches are cast to text at masked positions.
//!   [`ValidatedSql::masked_columns`] lists the outermost output labels that are masked.
//! - The outermost query gets `LIMIT max_rows + 1` (added, or lowered when larger or not a
//!   number); [`ValidatedSql`] carries the normalised SQL, the tables read and the limit.
//!
//! ## Not yet
//!
//! Row filters, an allow-list of functions instead of a deny-list, plain `EXPLAIN`, type-aware
//! masking (a masked value is text, so an outer query that compares a masked CTE/derived
//! column with numbers or dates fails in PostgreSQL; a recursive CTE that computes on a masked
//! column likewise), column lists for `VALUES` and `USING`/`NATURAL` joins (so `*` over them
//! is not expanded), and combining connection/server row caps (callers pass one).

mod deny;
mod guard;
mod schema;

pub use guard::{MAX_OPERATORS, MAX_SQL_LEN, RECURSION_LIMIT, validate};
pub use schema::{GuardPolicy, GuardSchema, GuardTable};

use querent_domain::{Dialect, ErrorCode};
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
    /// A function on the dialect's deny-list (file, network, sleep, admin, sequence, lock…).
    #[error("function `{name}` is not allowed")]
    DeniedFunction {
        /// The function as written.
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

impl GuardError {
    /// The stable error code a client sees for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            GuardError::PolicyViolation { .. } => ErrorCode::PolicyViolation,
            _ => ErrorCode::GuardRejected,
        }
    }
}

/// SQL that passed every check of the guard, rewritten as it will run (row cap applied,
/// `SELECT *` expanded to allowed columns).
///
/// Only the guard in this crate builds one: there is no public constructor and no
/// `Deserialize`, so holding a `ValidatedSql` proves the statement was checked. querent-exec
/// accepts nothing else. It serializes (for responses and logs) but cannot be read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidatedSql {
    pub(crate) sql: String,
    pub(crate) dialect: Dialect,
    pub(crate) tables: Vec<String>,
    pub(crate) max_rows: u64,
    pub(crate) row_limit: u64,
    pub(crate) masked_columns: Vec<String>,
}

impl ValidatedSql {
    /// The SQL text to execute.
    pub fn sql(&self) -> &str {
        &self.sql
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

    /// The policy's row cap: a result with more rows than this was truncated.
    pub fn max_rows(&self) -> u64 {
        self.max_rows
    }

    /// The `LIMIT` in force on the outermost query: at most `max_rows + 1`, lower when the
    /// statement asked for fewer rows.
    pub fn row_limit(&self) -> u64 {
        self.row_limit
    }

    /// Output column labels whose values the guard replaced with a mask (policy
    /// `masked_column_patterns`), so callers can flag them in result metadata.
    pub fn masked_columns(&self) -> &[String] {
        &self.masked_columns
    }

    /// Whether a result of `rows` rows was cut off by the row cap.
    pub fn is_truncated(&self, rows: u64) -> bool {
        rows > self.max_rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
