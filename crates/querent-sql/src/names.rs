//! Dialect facts the guard needs about names, types and operators: how identifiers fold
//! and are quoted, which schemas are catalogs, which casts and operators are allowed.

use querent_domain::Dialect;
use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator, DataType, Ident, ObjectName, TypeModifier, UnaryOperator,
};

use crate::GuardError;

/// The name the database gives an identifier: PostgreSQL folds unquoted names to lower
/// case; MySQL and SQLite keep them as written (and compare columns case-insensitively).
pub(crate) fn fold(dialect: Dialect, ident: &Ident) -> String {
    if ident.quote_style.is_none() && dialect == Dialect::Postgres {
        ident.value.to_lowercase()
    } else {
        ident.value.clone()
    }
}

/// A function's name for the allow-list: lower case, except a quoted name in PostgreSQL,
/// which is matched exactly (so `"LOWER"` is not `lower`).
pub(crate) fn function_name(dialect: Dialect, ident: &Ident) -> String {
    if ident.quote_style.is_some() && dialect == Dialect::Postgres {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The quote character for identifiers.
pub(crate) fn quote_char(dialect: Dialect) -> char {
    match dialect {
        Dialect::Mysql => '`',
        Dialect::Postgres | Dialect::Sqlite => '"',
    }
}

/// An identifier for the exact name `name`, quoted when it has to be.
pub(crate) fn make_ident(dialect: Dialect, name: &str) -> Ident {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| {
        c == '_'
            || c.is_ascii_lowercase()
            || (dialect != Dialect::Postgres && c.is_ascii_uppercase())
    });
    let rest_ok = name.chars().all(|c| {
        c == '_'
            || c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || (dialect != Dialect::Postgres && c.is_ascii_uppercase())
    });
    if first_ok && rest_ok && !is_reserved(dialect, name) {
        Ident::new(name)
    } else {
        Ident::with_quote(quote_char(dialect), name)
    }
}

/// An identifier for the exact name `name`, always quoted: for names only the text that
/// runs carries (derived tables, schema-qualified tables), where no reserved word of any
/// server version can trip the parser.
pub(crate) fn exact_ident(dialect: Dialect, name: &str) -> Ident {
    Ident::with_quote(quote_char(dialect), name)
}

/// Whether an unquoted identifier can be printed as it is: letters, digits, `_` and `$`,
/// not starting with a digit or `$`.
pub(crate) fn is_plain_word(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c == '$' || c.is_alphanumeric())
}

/// Whether a table lives in a catalog: PostgreSQL's `pg_catalog`, `information_schema` and
/// `pg_*` relations, MySQL's `mysql`, `information_schema`, `performance_schema` and `sys`,
/// SQLite's `sqlite_*` tables and `pragma_*` functions.
pub(crate) fn is_catalog(dialect: Dialect, schema: Option<&str>, table: &str) -> bool {
    let schema = schema.map(str::to_ascii_lowercase);
    let table = table.to_ascii_lowercase();
    match dialect {
        Dialect::Postgres => {
            matches!(
                schema.as_deref(),
                Some("pg_catalog" | "information_schema" | "pg_toast")
            ) || (schema.is_none() && table.starts_with("pg_"))
        }
        Dialect::Mysql => matches!(
            schema.as_deref(),
            Some("mysql" | "information_schema" | "performance_schema" | "sys")
        ),
        Dialect::Sqlite => table.starts_with("sqlite_") || table.starts_with("pragma_"),
    }
}

/// SQLite's implicit row id column names.
pub(crate) fn is_rowid(name: &str) -> bool {
    ["rowid", "oid", "_rowid_"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

/// The unit keywords of MySQL's `TIMESTAMPDIFF`/`TIMESTAMPADD`.
pub(crate) fn is_time_unit(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let name = name.strip_prefix("SQL_TSI_").unwrap_or(&name);
    matches!(
        name,
        "MICROSECOND"
            | "SECOND"
            | "MINUTE"
            | "HOUR"
            | "DAY"
            | "WEEK"
            | "MONTH"
            | "QUARTER"
            | "YEAR"
    )
}

/// A MySQL character-set introducer such as `_utf8mb4`.
pub(crate) fn is_introducer(ident: &Ident) -> bool {
    ident.quote_style.is_none()
        && ident.value.len() > 1
        && ident.value.starts_with('_')
        && ident.value[1..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// A character-set name in `CONVERT(… USING cs)`.
pub(crate) fn check_charset(name: &ObjectName) -> Result<(), GuardError> {
    let ok = name.0.len() == 1
        && name.0[0].as_ident().is_some_and(|i| {
            i.quote_style.is_none()
                && i.value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(GuardError::Unsupported {
            feature: format!("the character set {name}"),
        })
    }
}

/// Whether a cast or typed literal to this type is allowed: the ordinary scalar types.
/// Types whose input reads catalogs (`regclass`, `regproc`, …), user-defined types and
/// composite types are not.
pub(crate) fn check_type(dialect: Dialect, data_type: &DataType) -> Result<(), GuardError> {
    let ok = match data_type {
        DataType::Character(_)
        | DataType::Char(_)
        | DataType::CharacterVarying(_)
        | DataType::CharVarying(_)
        | DataType::Varchar(_)
        | DataType::Nvarchar(_)
        | DataType::Uuid
        | DataType::Text
        | DataType::TinyText
        | DataType::MediumText
        | DataType::LongText
        | DataType::String(_)
        | DataType::Numeric(_)
        | DataType::Decimal(_)
        | DataType::DecimalUnsigned(_)
        | DataType::Dec(_)
        | DataType::DecUnsigned(_)
        | DataType::Float(_)
        | DataType::FloatUnsigned(_)
        | DataType::TinyInt(_)
        | DataType::TinyIntUnsigned(_)
        | DataType::SmallInt(_)
        | DataType::SmallIntUnsigned(_)
        | DataType::MediumInt(_)
        | DataType::MediumIntUnsigned(_)
        | DataType::Int(_)
        | DataType::IntUnsigned(_)
        | DataType::Int2(_)
        | DataType::Int2Unsigned(_)
        | DataType::Int4(_)
        | DataType::Int4Unsigned(_)
        | DataType::Int8(_)
        | DataType::Int8Unsigned(_)
        | DataType::Integer(_)
        | DataType::IntegerUnsigned(_)
        | DataType::BigInt(_)
        | DataType::BigIntUnsigned(_)
        | DataType::Signed
        | DataType::SignedInteger
        | DataType::Unsigned
        | DataType::UnsignedInteger
        | DataType::Float4
        | DataType::Float8
        | DataType::Real
        | DataType::RealUnsigned
        | DataType::Double(_)
        | DataType::DoubleUnsigned(_)
        | DataType::DoublePrecision
        | DataType::DoublePrecisionUnsigned
        | DataType::Bool
        | DataType::Boolean
        | DataType::Date
        | DataType::Time(..)
        | DataType::Datetime(_)
        | DataType::Timestamp(..)
        | DataType::Interval { .. }
        | DataType::JSON
        | DataType::JSONB
        | DataType::Bytea
        | DataType::Binary(_)
        | DataType::Varbinary(_)
        | DataType::Blob(_)
        | DataType::Bit(_)
        | DataType::BitVarying(_)
        | DataType::VarBit(_)
        | DataType::TsVector
        | DataType::TsQuery => true,
        DataType::Array(elem) => {
            return match elem {
                ArrayElemTypeDef::AngleBracket(t)
                | ArrayElemTypeDef::SquareBracket(t, _)
                | ArrayElemTypeDef::Parenthesis(t)
                    if dialect == Dialect::Postgres =>
                {
                    check_type(dialect, t)
                }
                _ => Err(type_not_allowed(data_type)),
            };
        }
        DataType::Custom(name, modifiers) => {
            let simple = name.0.len() == 1
                && name.0[0].as_ident().is_some_and(|i| {
                    matches!(
                        i.value.to_ascii_lowercase().as_str(),
                        "int2"
                            | "int4"
                            | "int8"
                            | "float4"
                            | "float8"
                            | "timestamptz"
                            | "timetz"
                            | "citext"
                            | "money"
                            | "serial"
                            | "bigserial"
                            | "number"
                    )
                });
            simple
                && modifiers
                    .iter()
                    .all(|m| matches!(m, TypeModifier::Number(..)))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(type_not_allowed(data_type))
    }
}

fn type_not_allowed(data_type: &DataType) -> GuardError {
    GuardError::TypeNotAllowed {
        name: data_type.to_string(),
    }
}

/// Unary operators the guard lets through.
pub(crate) fn unary_allowed(dialect: Dialect, op: &UnaryOperator) -> bool {
    match op {
        UnaryOperator::Plus
        | UnaryOperator::Minus
        | UnaryOperator::Not
        | UnaryOperator::BitwiseNot => true,
        UnaryOperator::BangNot => dialect == Dialect::Mysql,
        UnaryOperator::PGSquareRoot | UnaryOperator::PGCubeRoot | UnaryOperator::PGAbs => {
            dialect == Dialect::Postgres
        }
        _ => false,
    }
}

/// Binary operators the guard lets through: arithmetic, comparison, logic, string
/// concatenation, pattern matching and JSON/array operators of each dialect.
pub(crate) fn binary_allowed(dialect: Dialect, op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    match op {
        B::Plus
        | B::Minus
        | B::Multiply
        | B::Divide
        | B::Modulo
        | B::StringConcat
        | B::Gt
        | B::Lt
        | B::GtEq
        | B::LtEq
        | B::Eq
        | B::NotEq
        | B::And
        | B::Or
        | B::BitwiseOr
        | B::BitwiseAnd
        | B::PGBitwiseShiftLeft
        | B::PGBitwiseShiftRight
        | B::Arrow
        | B::LongArrow => true,
        B::Xor | B::BitwiseXor | B::MyIntegerDivide | B::Spaceship => dialect == Dialect::Mysql,
        B::Regexp => dialect != Dialect::Postgres,
        B::Glob | B::Match | B::Is | B::IsNot => dialect == Dialect::Sqlite,
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
        | B::Overlaps => dialect == Dialect::Postgres,
        _ => false,
    }
}

/// Whether `name` must be quoted to be read as a column name in `dialect`: the dialect's
/// reserved words (PostgreSQL's reserved key words; MySQL 8's and MariaDB's reserved
/// words; SQLite's keywords), compared without regard to case.
pub(crate) fn is_reserved(dialect: Dialect, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let list: &[&str] = match dialect {
        Dialect::Postgres => POSTGRES_RESERVED,
        Dialect::Mysql => MYSQL_RESERVED,
        Dialect::Sqlite => SQLITE_KEYWORDS,
    };
    list.binary_search(&lower.as_str()).is_ok()
}

/// PostgreSQL's reserved key words (reserved, and reserved but usable as function or type
/// names), lower case, sorted.
const POSTGRES_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// MySQL 8's and MariaDB's reserved words, lower case, sorted.
const MYSQL_RESERVED: &[&str] = &[
    "accessible",
    "add",
    "all",
    "alter",
    "analyze",
    "and",
    "as",
    "asc",
    "asensitive",
    "before",
    "between",
    "bigint",
    "binary",
    "blob",
    "both",
    "by",
    "call",
    "cascade",
    "case",
    "change",
    "char",
    "character",
    "check",
    "collate",
    "column",
    "condition",
    "constraint",
    "continue",
    "convert",
    "create",
    "cross",
    "cube",
    "cume_dist",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "database",
    "databases",
    "day_hour",
    "day_microsecond",
    "day_minute",
    "day_second",
    "dec",
    "decimal",
    "declare",
    "default",
    "delayed",
    "delete",
    "delete_domain_id",
    "dense_rank",
    "desc",
    "describe",
    "deterministic",
    "distinct",
    "distinctrow",
    "div",
    "do_domain_ids",
    "double",
    "drop",
    "dual",
    "each",
    "else",
    "elseif",
    "empty",
    "enclosed",
    "escaped",
    "except",
    "exists",
    "exit",
    "explain",
    "false",
    "fetch",
    "first_value",
    "float",
    "float4",
    "float8",
    "for",
    "force",
    "foreign",
    "from",
    "fulltext",
    "function",
    "general",
    "generated",
    "get",
    "grant",
    "group",
    "grouping",
    "groups",
    "having",
    "high_priority",
    "hour_microsecond",
    "hour_minute",
    "hour_second",
    "if",
    "ignore",
    "ignore_domain_ids",
    "ignore_server_ids",
    "in",
    "index",
    "infile",
    "inner",
    "inout",
    "insensitive",
    "insert",
    "int",
    "int1",
    "int2",
    "int3",
    "int4",
    "int8",
    "integer",
    "intersect",
    "interval",
    "into",
    "io_after_gtids",
    "io_before_gtids",
    "is",
    "iterate",
    "join",
    "json_table",
    "key",
    "keys",
    "kill",
    "lag",
    "last_value",
    "lateral",
    "lead",
    "leading",
    "leave",
    "left",
    "like",
    "limit",
    "linear",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "long",
    "longblob",
    "longtext",
    "loop",
    "low_priority",
    "master_bind",
    "master_heartbeat_period",
    "master_ssl_verify_server_cert",
    "match",
    "maxvalue",
    "mediumblob",
    "mediumint",
    "mediumtext",
    "middleint",
    "minute_microsecond",
    "minute_second",
    "mod",
    "modifies",
    "natural",
    "no_write_to_binlog",
    "not",
    "nth_value",
    "ntile",
    "null",
    "numeric",
    "of",
    "offset",
    "on",
    "optimize",
    "optimizer_costs",
    "option",
    "optionally",
    "or",
    "order",
    "out",
    "outer",
    "outfile",
    "over",
    "page_checksum",
    "parse_vcol_expr",
    "partition",
    "percent_rank",
    "position",
    "precision",
    "primary",
    "procedure",
    "purge",
    "range",
    "rank",
    "read",
    "read_write",
    "reads",
    "real",
    "recursive",
    "ref_system_id",
    "references",
    "regexp",
    "release",
    "rename",
    "repeat",
    "replace",
    "require",
    "resignal",
    "restrict",
    "return",
    "returning",
    "revoke",
    "right",
    "rlike",
    "row",
    "row_number",
    "rows",
    "schema",
    "schemas",
    "second_microsecond",
    "select",
    "sensitive",
    "separator",
    "set",
    "show",
    "signal",
    "slow",
    "smallint",
    "spatial",
    "specific",
    "sql",
    "sql_big_result",
    "sql_calc_found_rows",
    "sql_small_result",
    "sqlexception",
    "sqlstate",
    "sqlwarning",
    "ssl",
    "starting",
    "stats_auto_recalc",
    "stats_persistent",
    "stats_sample_pages",
    "stored",
    "straight_join",
    "system",
    "table",
    "terminated",
    "then",
    "tinyblob",
    "tinyint",
    "tinytext",
    "to",
    "trailing",
    "trigger",
    "true",
    "undo",
    "union",
    "unique",
    "unlock",
    "unsigned",
    "update",
    "usage",
    "use",
    "using",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "values",
    "varbinary",
    "varchar",
    "varcharacter",
    "varying",
    "virtual",
    "when",
    "where",
    "while",
    "window",
    "with",
    "write",
    "xor",
    "year_month",
    "zerofill",
];

/// SQLite's keywords, lower case, sorted.
const SQLITE_KEYWORDS: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs() {
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

    #[test]
    fn identifiers() {
        assert_eq!(
            make_ident(Dialect::Postgres, "order").quote_style,
            Some('"')
        );
        assert_eq!(make_ident(Dialect::Postgres, "Name").quote_style, Some('"'));
        assert_eq!(make_ident(Dialect::Mysql, "Name").quote_style, None);
        assert_eq!(
            make_ident(Dialect::Mysql, "two words").quote_style,
            Some('`')
        );
        assert_eq!(make_ident(Dialect::Sqlite, "id").quote_style, None);
        assert!(is_plain_word("café_1"));
        assert!(!is_plain_word("1abc"));
        assert!(!is_plain_word("a-b"));
        assert!(is_time_unit("day") && is_time_unit("SQL_TSI_MONTH") && !is_time_unit("email"));
        assert_eq!(make_ident(Dialect::Mysql, "read").quote_style, Some('`'));
        assert_eq!(make_ident(Dialect::Postgres, "only").quote_style, Some('"'));
        assert_eq!(make_ident(Dialect::Postgres, "read").quote_style, None);
        assert_eq!(make_ident(Dialect::Sqlite, "key").quote_style, Some('"'));
        for list in [POSTGRES_RESERVED, MYSQL_RESERVED, SQLITE_KEYWORDS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        }
    }
}
