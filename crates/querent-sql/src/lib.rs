//! # querent-sql
//!
//! The safety core (design §4): parses SQL with sqlparser for the connection's dialect and
//! lets through only a single read-only query — `SELECT`/`WITH`/`VALUES`/set operations,
//! optionally a plain `EXPLAIN` — with no data-modifying CTE, no `SELECT INTO`, no locking
//! clause and no function from the dialect's deny-list. Every table and column must exist in
//! the schema snapshot (with CTE and alias scoping; unknown names come back with "did you
//! mean" suggestions), the privacy policy is enforced (excluded tables/columns rejected,
//! `SELECT *` expanded to allowed columns), and the row cap is applied as a `LIMIT`. The
//! result is a [`ValidatedSql`], the only thing querent-exec will run.
//!
//! Depends on: querent-domain and sqlparser only, so it can be embedded on its own.
//!
//! Must never: execute SQL, open connections, depend on any other querent crate, or hand out
//! a [`ValidatedSql`] that did not pass every check.
//!
//! Status: public types only; behaviour arrives with issue 4.

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
    sql: String,
    dialect: Dialect,
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
