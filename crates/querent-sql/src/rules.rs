//! What the guard accepts, and how it resolves names, per dialect: one table of capability
//! flags, as sqlparser-rs keeps its dialects' capabilities on its `Dialect` trait.
//!
//! Nothing else in this crate compares dialects. [`rules`] is the one `match` on
//! [`Dialect`]; a new dialect is one more [`Rules`] value here, whose every field (there is
//! no default) must be decided — together with its function allow-list in
//! [`crate::functions`]. Facts that are true of a dialect whoever asks (quoting, case
//! folding, reserved words, string literals) are methods of `querent_domain::Dialect`;
//! these are the guard's own decisions, each one deny by default.

use querent_domain::Dialect;
use sqlparser::ast::{BinaryOperator, UnaryOperator};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};

use crate::functions::{self, ArgRule, TableFn};

/// The guard's rules for one dialect.
pub(crate) struct Rules {
    /// The sqlparser dialect that reads (and, for the re-parse proof, re-reads) statements.
    pub parser: fn() -> Box<dyn SqlDialect>,

    // ---------------------------------------------------------------- allow-lists
    /// The dialect's own functions, beyond those every dialect shares
    /// ([`functions::scalar`]).
    pub functions: fn(&str) -> Option<ArgRule>,
    /// The table-valued functions allowed in `FROM`.
    pub table_functions: fn(&str) -> Option<TableFn>,
    /// Unary operators beyond `+`, `-`, `NOT` and `~`.
    pub unary_operators: fn(&UnaryOperator) -> bool,
    /// Binary operators beyond arithmetic, comparison, logic, `||`, bit operators, shifts,
    /// `->` and `->>`.
    pub binary_operators: fn(&BinaryOperator) -> bool,
    /// Whether `schema.table` (or `table` alone, `schema` being `None`) is a catalog.
    pub is_catalog: fn(Option<&str>, &str) -> bool,

    // ---------------------------------------------------------------- names
    /// CTE names match without regard to case (else exactly, after folding).
    pub cte_names_ignore_case: bool,
    /// `catalog.schema.table` is read as `schema.table`.
    pub three_part_table_names: bool,
    /// `VALUES` columns are named `column1`, `column2`… (MariaDB names them after the
    /// first row's values instead).
    pub values_column_names: bool,
    /// Unaliased expressions get a predictable name (a function's name, `case`,
    /// `exists`), so a derived table's column can be referred to by it.
    pub default_labels: bool,
    /// Select-list aliases are visible in `HAVING`.
    pub aliases_in_having: bool,
    /// Select-list aliases are visible in `WHERE`.
    pub aliases_in_where: bool,
    /// In `ORDER BY`, a name that is an output column is that column, even when several
    /// sources have a column of that name.
    pub order_by_output_names: bool,
    /// Tables have implicit row id columns (`rowid`, `oid`, `_rowid_`).
    pub rowid_columns: bool,
    /// A bare table alias is a whole-row reference.
    pub whole_row_references: bool,
    /// A double-quoted name that is no column is read as a string (the guard then writes
    /// it as one).
    pub double_quoted_fallback_to_string: bool,

    // ---------------------------------------------------------------- syntax
    /// `WITH x AS [NOT] MATERIALIZED (…)`.
    pub materialized_ctes: bool,
    /// `UNNEST(…)` in `FROM`.
    pub unnest: bool,
    /// `JSON_TABLE(…)` in `FROM`.
    pub json_table: bool,
    /// Composite fields and subscripts: `(expr).field`, `t.column.field`, `a[1]`.
    pub field_access: bool,
    /// Named function arguments (`f(a => 1)`).
    pub named_arguments: bool,
    /// `CONVERT(expr, type)` and `CONVERT(expr USING charset)`.
    pub convert: bool,
    /// Character-set introducers (`_utf8mb4'…'`).
    pub charset_introducers: bool,
    /// `MATCH (…) AGAINST (…)`.
    pub match_against: bool,
    /// Array types in casts.
    pub array_types: bool,

    // ---------------------------------------------------------------- literals
    /// `E'…'` and `U&'…'` strings.
    pub escape_strings: bool,
    /// `$$…$$` strings.
    pub dollar_strings: bool,
    /// `"…"` strings.
    pub double_quoted_strings: bool,
    /// `N'…'` strings.
    pub national_strings: bool,
    /// `B'…'` bit strings.
    pub bit_strings: bool,

    // ---------------------------------------------------------------- rewriting
    /// How a row-filtered derived table is fenced, so the database cannot merge it or push
    /// outer conditions into it.
    pub fence: Fence,
    /// Long values can be cut on the server (`ValidatedSql::with_value_caps`).
    pub value_caps: bool,
}

/// A clause that keeps a derived table from being merged into the outer query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fence {
    /// `OFFSET 0` (PostgreSQL).
    OffsetZero,
    /// `LIMIT 18446744073709551615` (MySQL, MariaDB).
    LimitMax,
    /// `LIMIT -1`, no limit (SQLite).
    LimitNone,
}

/// The rules for `dialect`.
pub(crate) fn rules(dialect: Dialect) -> &'static Rules {
    match dialect {
        Dialect::Postgres => &POSTGRES,
        Dialect::Mysql => &MYSQL,
        Dialect::Sqlite => &SQLITE,
    }
}

static POSTGRES: Rules = Rules {
    parser: || Box::new(PostgreSqlDialect {}),
    functions: functions::postgres,
    table_functions: functions::postgres_tables,
    unary_operators: |op| {
        matches!(
            op,
            UnaryOperator::PGSquareRoot | UnaryOperator::PGCubeRoot | UnaryOperator::PGAbs
        )
    },
    binary_operators: postgres_binary,
    is_catalog: |schema, table| {
        matches!(
            schema.map(str::to_ascii_lowercase).as_deref(),
            Some("pg_catalog" | "information_schema" | "pg_toast")
        ) || (schema.is_none() && table.to_ascii_lowercase().starts_with("pg_"))
    },
    cte_names_ignore_case: false,
    three_part_table_names: true,
    values_column_names: true,
    default_labels: true,
    aliases_in_having: false,
    aliases_in_where: false,
    order_by_output_names: true,
    rowid_columns: false,
    whole_row_references: true,
    double_quoted_fallback_to_string: false,
    materialized_ctes: true,
    unnest: true,
    json_table: false,
    field_access: true,
    named_arguments: true,
    convert: false,
    charset_introducers: false,
    match_against: false,
    array_types: true,
    escape_strings: true,
    dollar_strings: true,
    double_quoted_strings: false,
    national_strings: true,
    bit_strings: true,
    fence: Fence::OffsetZero,
    value_caps: true,
};

static MYSQL: Rules = Rules {
    parser: || Box::new(MySqlDialect {}),
    functions: functions::mysql,
    table_functions: functions::mysql_tables,
    unary_operators: |op| matches!(op, UnaryOperator::BangNot),
    binary_operators: |op| {
        use BinaryOperator as B;
        matches!(
            op,
            B::Xor | B::BitwiseXor | B::MyIntegerDivide | B::Spaceship | B::Regexp
        )
    },
    is_catalog: |schema, _| {
        matches!(
            schema.map(str::to_ascii_lowercase).as_deref(),
            Some("mysql" | "information_schema" | "performance_schema" | "sys")
        )
    },
    cte_names_ignore_case: false,
    three_part_table_names: true,
    values_column_names: false,
    default_labels: false,
    aliases_in_having: true,
    aliases_in_where: false,
    order_by_output_names: true,
    rowid_columns: false,
    whole_row_references: false,
    double_quoted_fallback_to_string: false,
    materialized_ctes: false,
    unnest: false,
    json_table: true,
    field_access: false,
    named_arguments: false,
    convert: true,
    charset_introducers: true,
    match_against: true,
    array_types: false,
    escape_strings: false,
    dollar_strings: false,
    double_quoted_strings: true,
    national_strings: true,
    bit_strings: true,
    fence: Fence::LimitMax,
    value_caps: false,
};

static SQLITE: Rules = Rules {
    parser: || Box::new(SQLiteDialect {}),
    functions: functions::sqlite,
    table_functions: functions::sqlite_tables,
    unary_operators: |_| false,
    binary_operators: |op| {
        use BinaryOperator as B;
        matches!(op, B::Regexp | B::Glob | B::Match | B::Is | B::IsNot)
    },
    is_catalog: |_, table| {
        let table = table.to_ascii_lowercase();
        table.starts_with("sqlite_") || table.starts_with("pragma_")
    },
    cte_names_ignore_case: true,
    three_part_table_names: false,
    values_column_names: true,
    default_labels: false,
    aliases_in_having: true,
    aliases_in_where: true,
    order_by_output_names: false,
    rowid_columns: true,
    whole_row_references: false,
    double_quoted_fallback_to_string: true,
    materialized_ctes: false,
    unnest: false,
    json_table: false,
    field_access: false,
    named_arguments: false,
    convert: false,
    charset_introducers: false,
    match_against: false,
    array_types: false,
    escape_strings: false,
    dollar_strings: false,
    double_quoted_strings: false,
    national_strings: false,
    bit_strings: false,
    fence: Fence::LimitNone,
    value_caps: false,
};

/// PostgreSQL's own binary operators: regular expressions, `LIKE`/`ILIKE` spellings,
/// `^@`, `#`, `^`, `&&`, JSON and array containment and access, full-text `@@`,
/// `OVERLAPS`.
fn postgres_binary(op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    matches!(
        op,
        B::PGBitwiseXor
            | B::PGExp
            | B::PGOverlap
            | B::PGRegexMatch
            | B::PGRegexIMatch
            | B::PGRegexNotMatch
            | B::PGRegexNotIMatch
            | B::PGLikeMatch
            | B::PGILikeMatch
            | B::PGNotLikeMatch
            | B::PGNotILikeMatch
            | B::PGStartsWith
            | B::HashArrow
            | B::HashLongArrow
            | B::AtAt
            | B::AtArrow
            | B::ArrowAt
            | B::HashMinus
            | B::AtQuestion
            | B::Question
            | B::QuestionAnd
            | B::QuestionPipe
            | B::Overlaps
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs() {
        let is_catalog = |d, schema, table| (rules(d).is_catalog)(schema, table);
        assert!(is_catalog(
            Dialect::Postgres,
            Some("pg_catalog"),
            "pg_class"
        ));
        assert!(is_catalog(Dialect::Postgres, None, "pg_shadow"));
        assert!(is_catalog(
            Dialect::Postgres,
            Some("INFORMATION_SCHEMA"),
            "tables"
        ));
        assert!(!is_catalog(Dialect::Postgres, Some("public"), "orders"));
        assert!(is_catalog(Dialect::Mysql, Some("mysql"), "user"));
        assert!(!is_catalog(Dialect::Mysql, Some("shop"), "user"));
        assert!(is_catalog(Dialect::Sqlite, None, "sqlite_master"));
        assert!(is_catalog(Dialect::Sqlite, Some("main"), "SQLITE_SCHEMA"));
        assert!(!is_catalog(Dialect::Sqlite, None, "orders"));
    }
}
