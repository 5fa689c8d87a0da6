//! MySQL and MariaDB text-protocol values.

use mysql_async::consts::{ColumnFlags, ColumnType};
use serde_json::Value;

use crate::deliver::ValueCap;
use crate::values::float;

/// The `binary` character set: such string columns hold bytes.
const BINARY_CHARSET: u16 = 63;

fn is_binary(col: &mysql_async::Column) -> bool {
    col.character_set() == BINARY_CHARSET
}

/// The lower-case type name of a column (`int`, `bigint unsigned`, `varchar`, `blob`…).
pub(crate) fn type_name(col: &mysql_async::Column) -> String {
    use ColumnType::*;
    let flags = col.flags();
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = is_binary(col);
    let base = match col.column_type() {
        MYSQL_TYPE_TINY => "tinyint",
        MYSQL_TYPE_SHORT => "smallint",
        MYSQL_TYPE_INT24 => "mediumint",
        MYSQL_TYPE_LONG => "int",
        MYSQL_TYPE_LONGLONG => "bigint",
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => "decimal",
        MYSQL_TYPE_FLOAT => "float",
        MYSQL_TYPE_DOUBLE => "double",
        MYSQL_TYPE_NULL => "null",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "timestamp",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "date",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "time",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "datetime",
        MYSQL_TYPE_YEAR => "year",
        MYSQL_TYPE_BIT => "bit",
        MYSQL_TYPE_JSON => "json",
        MYSQL_TYPE_ENUM => "enum",
        MYSQL_TYPE_SET => "set",
        MYSQL_TYPE_GEOMETRY => "geometry",
        MYSQL_TYPE_VECTOR => "vector",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
            if binary {
                "varbinary"
            } else {
                "varchar"
            }
        }
        MYSQL_TYPE_STRING => {
            if flags.contains(ColumnFlags::ENUM_FLAG) {
                "enum"
            } else if flags.contains(ColumnFlags::SET_FLAG) {
                "set"
            } else if binary {
                "binary"
            } else {
                "char"
            }
        }
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => {
            if binary {
                "blob"
            } else {
                "text"
            }
        }
        _ => "unknown",
    };
    let numeric = matches!(
        col.column_type(),
        MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG
    );
    if unsigned && numeric {
        format!("{base} unsigned")
    } else {
        base.to_owned()
    }
}

/// The JSON value of one text-protocol value, cut to the value cap.
pub(crate) fn value(col: &mysql_async::Column, v: mysql_async::Value, cap: &mut ValueCap) -> Value {
    use ColumnType::*;
    use mysql_async::Value as V;
    let bytes = match v {
        V::NULL => return Value::Null,
        V::Bytes(b) => b,
        // The text protocol only sends bytes; typed values come from the binary one.
        V::Int(i) => return i.into(),
        V::UInt(u) => return u.into(),
        V::Float(f) => return float(f64::from(f)),
        V::Double(f) => return float(f),
        other => return cap.string(other.as_sql(true)),
    };
    let as_text = || String::from_utf8_lossy(&bytes).into_owned();
    match col.column_type() {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
            let t = as_text();
            t.parse::<i64>()
                .map(Value::from)
                .or_else(|_| t.parse::<u64>().map(Value::from))
                .unwrap_or(Value::String(t))
        }
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => as_text().parse::<f64>().map_or(Value::Null, float),
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Value::String(as_text()),
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE | MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => {
            Value::String(as_text())
        }
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => Value::String(as_text().replacen(' ', "T", 1)),
        MYSQL_TYPE_JSON => cap.json(&bytes),
        MYSQL_TYPE_BIT => {
            if bytes.len() <= 8 {
                Value::from(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
            } else {
                cap.bytes(&bytes)
            }
        }
        MYSQL_TYPE_NULL => Value::Null,
        MYSQL_TYPE_GEOMETRY | MYSQL_TYPE_VECTOR => cap.bytes(&bytes),
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB
            if is_binary(col) =>
        {
            cap.bytes(&bytes)
        }
        _ => cap.text(&bytes),
    }
}
