//! The reviewed allow-list of functions, per dialect (design §4: deny by default).
//!
//! A function is allowed only if it is listed here for the connection's dialect. What is
//! listed is what analysts use: arithmetic and math, strings, dates and times, JSON reading
//! and building, conditionals, aggregates and window functions. What is *not* listed, on
//! purpose: anything that executes SQL text (`ts_stat`, `ts_rewrite`, `query_to_xml`, …),
//! touches files or the network (`pg_read_file`, `lo_*`, `dblink`, `load_file`, `readfile`),
//! takes locks, uses sequences or changes session or server state (`nextval`, `set_config`,
//! `get_lock`, `last_insert_id`), waits (`sleep`, `benchmark`), or reads catalogs, settings or
//! the server's identity (`current_setting`, `has_table_privilege`, `version`, `user`,
//! `database`, `sqlite_version`). A new function is added here only after reading what it
//! does in that database.
//!
//! Which lists apply to a dialect is set in its [`crate::rules::Rules`] (`functions`,
//! `table_functions`); the lists are guard policy, reviewed here in one place.
//!
//! Some functions carry an argument rule: a unit keyword that is not a column
//! (`TIMESTAMPDIFF(DAY, a, b)`), a size that must be a small literal (`repeat`, `lpad`,
//! `space`), or a format string whose widths are bounded (`printf`, `format`), so that one
//! call cannot build a value of hundreds of megabytes.

use querent_domain::Dialect;

use crate::rules::rules;

/// The largest repeat count or pad length accepted as a literal.
pub(crate) const MAX_SIZE_ARGUMENT: u64 = 100_000;

/// The widest field a format string may ask for.
pub(crate) const MAX_FORMAT_WIDTH: u64 = 1_000;

/// How a function's arguments are checked beyond the usual expression checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgRule {
    /// Every argument is an ordinary expression.
    Plain,
    /// The first argument is a date/time unit keyword (`DAY`, `MONTH`, …), not a column.
    UnitFirst,
    /// The argument at this position is a size: an integer literal up to
    /// [`MAX_SIZE_ARGUMENT`].
    Size(usize),
    /// The argument at this position is a format string: a literal whose field widths and
    /// precisions are at most [`MAX_FORMAT_WIDTH`] and never `*`.
    Format(usize),
}

/// What a table-valued function in `FROM` yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableFn {
    /// One column, named after the alias (or the function when there is none).
    Single,
    /// One column per argument (PostgreSQL `unnest(a, b)`), named like [`TableFn::Single`].
    PerArgument,
    /// These columns.
    Columns(&'static [&'static str]),
}

/// The rule for a scalar, aggregate or window function, or `None` when it is not allowed.
/// `name` is the function's name as the database resolves it (lower case unless quoted in
/// PostgreSQL).
pub(crate) fn scalar(dialect: Dialect, name: &str) -> Option<ArgRule> {
    if let Some(rule) = common(name) {
        return Some(rule);
    }
    (rules(dialect).functions)(name)
}

/// The table-valued functions allowed in `FROM`, with their columns.
pub(crate) fn table(dialect: Dialect, name: &str) -> Option<TableFn> {
    (rules(dialect).table_functions)(name)
}

/// PostgreSQL's table-valued functions.
pub(crate) fn postgres_tables(name: &str) -> Option<TableFn> {
    match name {
        "generate_series"
        | "generate_subscripts"
        | "regexp_split_to_table"
        | "regexp_matches"
        | "string_to_table"
        | "json_array_elements"
        | "jsonb_array_elements"
        | "json_array_elements_text"
        | "jsonb_array_elements_text"
        | "json_object_keys"
        | "jsonb_object_keys" => Some(TableFn::Single),
        "unnest" => Some(TableFn::PerArgument),
        "json_each" | "jsonb_each" | "json_each_text" | "jsonb_each_text" => {
            Some(TableFn::Columns(&["key", "value"]))
        }
        _ => None,
    }
}

/// MySQL/MariaDB's only table function is JSON_TABLE, which has its own syntax.
pub(crate) fn mysql_tables(_name: &str) -> Option<TableFn> {
    None
}

/// SQLite's table-valued functions (the `pragma_*` ones read the catalog and are not
/// listed).
pub(crate) fn sqlite_tables(name: &str) -> Option<TableFn> {
    match name {
        "json_each" | "json_tree" | "jsonb_each" | "jsonb_tree" => Some(TableFn::Columns(&[
            "key", "value", "type", "atom", "id", "parent", "fullkey", "path",
        ])),
        _ => None,
    }
}

/// Functions every dialect has with the same meaning.
fn common(name: &str) -> Option<ArgRule> {
    Some(match name {
        // aggregates
        "count" | "sum" | "avg" | "min" | "max" => ArgRule::Plain,
        // window functions
        "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile" | "lag"
        | "lead" | "first_value" | "last_value" | "nth_value" => ArgRule::Plain,
        // conditionals
        "coalesce" | "nullif" => ArgRule::Plain,
        // math
        "abs" | "round" | "sign" | "sqrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow"
        | "mod" | "ceil" | "ceiling" | "floor" | "pi" | "degrees" | "radians" | "sin" | "cos"
        | "tan" | "asin" | "acos" | "atan" | "atan2" => ArgRule::Plain,
        // strings
        "lower" | "upper" | "length" | "replace" | "substr" | "substring" | "trim" | "ltrim"
        | "rtrim" | "instr" | "concat" | "concat_ws" => ArgRule::Plain,
        _ => return None,
    })
}

/// PostgreSQL's own functions.
pub(crate) fn postgres(name: &str) -> Option<ArgRule> {
    Some(match name {
        // aggregates and statistics
        "bool_and" | "bool_or" | "every" | "string_agg" | "array_agg" | "json_agg"
        | "jsonb_agg" | "json_object_agg" | "jsonb_object_agg" | "stddev" | "stddev_pop"
        | "stddev_samp" | "variance" | "var_pop" | "var_samp" | "corr" | "covar_pop"
        | "covar_samp" | "regr_avgx" | "regr_avgy" | "regr_count" | "regr_intercept"
        | "regr_r2" | "regr_slope" | "regr_sxx" | "regr_sxy" | "regr_syy" | "percentile_cont"
        | "percentile_disc" | "mode" | "bit_and" | "bit_or" | "bit_xor" | "any_value" => {
            ArgRule::Plain
        }
        // conditionals
        "greatest" | "least" | "num_nulls" | "num_nonnulls" => ArgRule::Plain,
        // math
        "cbrt" | "div" | "trunc" | "scale" | "gcd" | "lcm" | "factorial" | "random"
        | "width_bucket" | "cot" | "sinh" | "cosh" | "tanh" | "asinh" | "acosh" | "atanh"
        | "sind" | "cosd" | "tand" | "asind" | "acosd" | "atand" | "atan2d" | "min_scale"
        | "trim_scale" => ArgRule::Plain,
        // strings
        "ascii"
        | "bit_length"
        | "btrim"
        | "char_length"
        | "character_length"
        | "chr"
        | "initcap"
        | "left"
        | "right"
        | "octet_length"
        | "position"
        | "reverse"
        | "split_part"
        | "starts_with"
        | "strpos"
        | "to_hex"
        | "translate"
        | "md5"
        | "sha256"
        | "sha512"
        | "regexp_replace"
        | "regexp_match"
        | "regexp_matches"
        | "regexp_like"
        | "regexp_count"
        | "regexp_substr"
        | "regexp_instr"
        | "regexp_split_to_array"
        | "string_to_array"
        | "array_to_string"
        | "quote_literal"
        | "quote_ident"
        | "quote_nullable"
        | "encode"
        | "decode"
        | "to_char"
        | "to_number"
        | "to_date"
        | "to_timestamp"
        | "overlay"
        | "normalize"
        | "unistr" => ArgRule::Plain,
        "repeat" => ArgRule::Size(1),
        "lpad" | "rpad" => ArgRule::Size(1),
        "format" => ArgRule::Format(0),
        // dates and times
        "now"
        | "current_date"
        | "current_time"
        | "current_timestamp"
        | "localtime"
        | "localtimestamp"
        | "clock_timestamp"
        | "statement_timestamp"
        | "transaction_timestamp"
        | "timeofday"
        | "age"
        | "date_part"
        | "date_trunc"
        | "date_bin"
        | "extract"
        | "isfinite"
        | "justify_days"
        | "justify_hours"
        | "justify_interval"
        | "make_date"
        | "make_time"
        | "make_timestamp"
        | "make_timestamptz"
        | "make_interval" => ArgRule::Plain,
        // JSON
        "to_json"
        | "to_jsonb"
        | "row_to_json"
        | "array_to_json"
        | "json_build_object"
        | "jsonb_build_object"
        | "json_build_array"
        | "jsonb_build_array"
        | "json_object"
        | "jsonb_object"
        | "json_array_length"
        | "jsonb_array_length"
        | "json_extract_path"
        | "jsonb_extract_path"
        | "json_extract_path_text"
        | "jsonb_extract_path_text"
        | "json_typeof"
        | "jsonb_typeof"
        | "json_strip_nulls"
        | "jsonb_strip_nulls"
        | "jsonb_pretty"
        | "jsonb_path_exists"
        | "jsonb_path_match"
        | "jsonb_path_query_array"
        | "jsonb_path_query_first"
        | "jsonb_set"
        | "jsonb_insert" => ArgRule::Plain,
        // arrays (as values; `unnest` in the select list is a set-returning function)
        "array_length" | "array_lower" | "array_upper" | "array_dims" | "array_ndims"
        | "array_position" | "array_positions" | "array_remove" | "array_replace" | "array_cat"
        | "array_append" | "array_prepend" | "cardinality" | "unnest" | "array"
        | "generate_series" | "row" => ArgRule::Plain,
        // full-text search over values (not `ts_stat`/`ts_rewrite`, which run SQL text)
        "to_tsvector"
        | "to_tsquery"
        | "plainto_tsquery"
        | "phraseto_tsquery"
        | "websearch_to_tsquery"
        | "ts_rank"
        | "ts_rank_cd"
        | "ts_headline"
        | "setweight"
        | "strip"
        | "numnode"
        | "querytree" => ArgRule::Plain,
        // misc values
        "pg_typeof" | "gen_random_uuid" | "uuid_generate_v4" | "isempty" | "lower_inf"
        | "upper_inf" => ArgRule::Plain,
        _ => return None,
    })
}

/// MySQL's and MariaDB's own functions.
pub(crate) fn mysql(name: &str) -> Option<ArgRule> {
    Some(match name {
        // aggregates
        "group_concat" | "std" | "stddev" | "stddev_pop" | "stddev_samp" | "variance"
        | "var_pop" | "var_samp" | "bit_and" | "bit_or" | "bit_xor" | "json_arrayagg"
        | "json_objectagg" | "any_value" => ArgRule::Plain,
        // conditionals
        "if" | "ifnull" | "isnull" | "greatest" | "least" | "nvl" | "nvl2" => ArgRule::Plain,
        // math
        "conv" | "cot" | "crc32" | "log2" | "rand" | "truncate" | "div" | "oct" | "bin" | "hex"
        | "unhex" | "format" => ArgRule::Plain,
        // strings
        "ascii" | "bit_length" | "char_length" | "character_length" | "char" | "elt" | "field"
        | "find_in_set" | "insert" | "lcase" | "ucase" | "left" | "right" | "locate"
        | "position" | "mid" | "octet_length" | "ord" | "quote" | "reverse" | "soundex"
        | "strcmp" | "substring_index" | "md5" | "sha1" | "sha2" | "to_base64" | "from_base64"
        | "regexp_instr" | "regexp_like" | "regexp_replace" | "regexp_substr" | "make_set"
        | "export_set" | "uuid" | "inet_aton" | "inet_ntoa" | "weight_string" => ArgRule::Plain,
        "repeat" | "space" => ArgRule::Size(if name == "space" { 0 } else { 1 }),
        "lpad" | "rpad" => ArgRule::Size(1),
        // dates and times
        "adddate" | "addtime" | "convert_tz" | "curdate" | "current_date" | "current_time"
        | "current_timestamp" | "curtime" | "date" | "date_add" | "date_format" | "date_sub"
        | "datediff" | "day" | "dayname" | "dayofmonth" | "dayofweek" | "dayofyear" | "extract"
        | "from_days" | "from_unixtime" | "hour" | "last_day" | "localtime" | "localtimestamp"
        | "makedate" | "maketime" | "microsecond" | "minute" | "month" | "monthname" | "now"
        | "period_add" | "period_diff" | "quarter" | "sec_to_time" | "second" | "str_to_date"
        | "subdate" | "subtime" | "sysdate" | "time" | "time_format" | "time_to_sec"
        | "timediff" | "timestamp" | "to_days" | "to_seconds" | "unix_timestamp" | "utc_date"
        | "utc_time" | "utc_timestamp" | "week" | "weekday" | "weekofyear" | "year"
        | "yearweek" => ArgRule::Plain,
        "timestampdiff" | "timestampadd" => ArgRule::UnitFirst,
        // JSON
        "json_array"
        | "json_object"
        | "json_quote"
        | "json_contains"
        | "json_contains_path"
        | "json_extract"
        | "json_keys"
        | "json_overlaps"
        | "json_search"
        | "json_value"
        | "json_unquote"
        | "json_depth"
        | "json_length"
        | "json_type"
        | "json_valid"
        | "json_array_append"
        | "json_array_insert"
        | "json_insert"
        | "json_merge_patch"
        | "json_merge_preserve"
        | "json_remove"
        | "json_replace"
        | "json_set"
        | "json_pretty"
        | "json_compact"
        | "json_detailed"
        | "json_exists"
        | "json_query" => ArgRule::Plain,
        _ => return None,
    })
}

/// SQLite's own functions.
pub(crate) fn sqlite(name: &str) -> Option<ArgRule> {
    Some(match name {
        // aggregates
        "group_concat" | "string_agg" | "total" | "json_group_array" | "json_group_object"
        | "jsonb_group_array" | "jsonb_group_object" => ArgRule::Plain,
        // conditionals
        "ifnull" | "iif" | "if" | "nullif" | "likely" | "unlikely" | "likelihood" => ArgRule::Plain,
        // math (SQLite 3.35+)
        "log2" | "trunc" | "acosh" | "asinh" | "atanh" | "cosh" | "sinh" | "tanh" => ArgRule::Plain,
        // strings and values
        "char" | "glob" | "hex" | "unhex" | "like" | "octet_length" | "quote" | "random"
        | "soundex" | "typeof" | "unicode" | "unistr" | "unistr_quote" => ArgRule::Plain,
        "printf" | "format" => ArgRule::Format(0),
        // dates and times
        "date" | "time" | "datetime" | "julianday" | "unixepoch" | "strftime" | "timediff" => {
            ArgRule::Plain
        }
        // JSON
        "json"
        | "jsonb"
        | "json_array"
        | "jsonb_array"
        | "json_array_length"
        | "json_error_position"
        | "json_extract"
        | "jsonb_extract"
        | "json_insert"
        | "jsonb_insert"
        | "json_object"
        | "jsonb_object"
        | "json_patch"
        | "jsonb_patch"
        | "json_pretty"
        | "json_remove"
        | "jsonb_remove"
        | "json_replace"
        | "jsonb_replace"
        | "json_set"
        | "jsonb_set"
        | "json_type"
        | "json_valid"
        | "json_quote" => ArgRule::Plain,
        _ => return None,
    })
}

/// Whether a format string (`printf`/`format`) asks only for bounded fields: no `*` width or
/// precision, and no width or precision above [`MAX_FORMAT_WIDTH`].
pub(crate) fn format_is_bounded(format: &str) -> bool {
    let bytes = format.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        // PostgreSQL's `%1$s` position and both dialects' flags come before the width.
        while i < bytes.len() && !bytes[i].is_ascii_alphabetic() && bytes[i] != b'%' {
            if bytes[i] == b'*' {
                return false;
            }
            if bytes[i].is_ascii_digit() {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let followed_by_dollar = bytes.get(i) == Some(&b'$');
                let digits = &format[start..i];
                let too_wide = digits.len() > 4
                    || digits.parse::<u64>().map_or(true, |n| n > MAX_FORMAT_WIDTH);
                if too_wide && !followed_by_dollar {
                    return false;
                }
                continue;
            }
            i += 1;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_and_is_not_allowed() {
        for d in Dialect::ALL {
            assert!(scalar(*d, "count").is_some());
            assert!(scalar(*d, "lower").is_some());
            for denied in [
                "pg_sleep",
                "sleep",
                "ts_stat",
                "ts_rewrite",
                "query_to_xml",
                "pg_read_file",
                "lo_import",
                "dblink",
                "set_config",
                "current_setting",
                "nextval",
                "load_file",
                "get_lock",
                "last_insert_id",
                "benchmark",
                "load_extension",
                "readfile",
                "zeroblob",
                "randomblob",
                "sqlite_version",
                "version",
                "user",
                "current_user",
                "database",
                "extractvalue",
                "updatexml",
                "has_table_privilege",
                "txid_current",
            ] {
                assert!(scalar(*d, denied).is_none(), "{d:?} {denied}");
            }
        }
        assert_eq!(
            scalar(Dialect::Mysql, "timestampdiff"),
            Some(ArgRule::UnitFirst)
        );
        assert_eq!(scalar(Dialect::Postgres, "repeat"), Some(ArgRule::Size(1)));
        assert_eq!(scalar(Dialect::Mysql, "space"), Some(ArgRule::Size(0)));
        assert_eq!(
            table(Dialect::Postgres, "generate_series"),
            Some(TableFn::Single)
        );
        assert!(table(Dialect::Sqlite, "pragma_table_info").is_none());
        assert!(table(Dialect::Postgres, "ts_stat").is_none());
    }

    #[test]
    fn format_strings() {
        assert!(format_is_bounded("%s has %d orders"));
        assert!(format_is_bounded("%-10s|%5.2f|%%"));
        assert!(format_is_bounded("%1$s %2$s"));
        assert!(!format_is_bounded("%999999999d"));
        assert!(!format_is_bounded("%.*c"));
        assert!(!format_is_bounded("%*s"));
        assert!(!format_is_bounded("%1001s"));
        assert!(format_is_bounded("%1000s"));
    }
}
