//! What the guard needs about names, types and operators: how identifiers fold and are
//! quoted (the dialect's facts, from `querent_domain::Dialect`), which casts and operators
//! are allowed (the guard's rules, from [`crate::rules`]).

use querent_domain::{CaseFolding, Dialect};
use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator, DataType, Ident, ObjectName, TypeModifier, UnaryOperator,
};

use crate::GuardError;
use crate::rules::rules;

/// The name the database gives an identifier: PostgreSQL folds unquoted names to lower
/// case; MySQL and SQLite keep them as written (and compare columns case-insensitively).
pub(crate) fn fold(dialect: Dialect, ident: &Ident) -> String {
    if ident.quote_style.is_none() {
        dialect.fold_unquoted(&ident.value)
    } else {
        ident.value.clone()
    }
}

/// A function's name for the allow-list: lower case, except a quoted name in a dialect
/// that folds names (PostgreSQL), which is matched exactly (so `"LOWER"` is not `lower`).
pub(crate) fn function_name(dialect: Dialect, ident: &Ident) -> String {
    match (ident.quote_style, dialect.case_folding()) {
        (Some(_), CaseFolding::Lower) => ident.value.clone(),
        (None, _) | (Some(_), CaseFolding::Preserve) => ident.value.to_lowercase(),
    }
}

/// An identifier for the exact name `name`, quoted when it has to be.
pub(crate) fn make_ident(dialect: Dialect, name: &str) -> Ident {
    if dialect.needs_quotes(name) {
        Ident::with_quote(dialect.identifier_quote(), name)
    } else {
        Ident::new(name)
    }
}

/// An identifier for the exact name `name`, always quoted: for names only the text that
/// runs carries (derived tables, schema-qualified tables), where no reserved word of any
/// server version can trip the parser.
pub(crate) fn exact_ident(dialect: Dialect, name: &str) -> Ident {
    Ident::with_quote(dialect.identifier_quote(), name)
}

/// Whether an unquoted identifier can be printed as it is: letters, digits, `_` and `$`,
/// not starting with a digit or `$`.
pub(crate) fn is_plain_word(value: &str) -> bool {
    if value.is_ascii() {
        // The common case, without Unicode tables.
        let bytes = value.as_bytes();
        return bytes
            .first()
            .is_some_and(|&b| b == b'_' || b.is_ascii_alphabetic())
            && bytes[1..]
                .iter()
                .all(|&b| b == b'_' || b == b'$' || b.is_ascii_alphanumeric());
    }
    let mut chars = value.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c == '$' || c.is_alphanumeric())
}

/// Whether a table lives in a catalog: PostgreSQL's `pg_catalog`, `information_schema` and
/// `pg_*` relations, MySQL's `mysql`, `information_schema`, `performance_schema` and `sys`,
/// SQLite's `sqlite_*` tables and `pragma_*` functions.
pub(crate) fn is_catalog(dialect: Dialect, schema: Option<&str>, table: &str) -> bool {
    (rules(dialect).is_catalog)(schema, table)
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
                    if rules(dialect).array_types =>
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
        other => (rules(dialect).unary_operators)(other),
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
        other => (rules(dialect).binary_operators)(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(is_plain_word("_a$1") && is_plain_word("Z") && is_plain_word("_"));
        assert!(!is_plain_word("") && !is_plain_word("$a") && !is_plain_word("a b"));
        assert!(is_plain_word("naïve") && !is_plain_word("é-1") && is_plain_word("é$"));
        assert!(is_time_unit("day") && is_time_unit("SQL_TSI_MONTH") && !is_time_unit("email"));
        assert_eq!(make_ident(Dialect::Mysql, "read").quote_style, Some('`'));
        assert_eq!(make_ident(Dialect::Postgres, "only").quote_style, Some('"'));
        assert_eq!(make_ident(Dialect::Postgres, "read").quote_style, None);
        assert_eq!(make_ident(Dialect::Sqlite, "key").quote_style, Some('"'));
    }
}
