//! SQLite values: they follow their storage class, with two conveniences driven by the
//! declared type (`BOOL`/`BOOLEAN` integers 0/1 become booleans, `JSON` text is parsed).

use rusqlite::types::ValueRef;
use serde_json::Value;

use crate::deliver::ValueCap;
use crate::values::float;

/// The storage class name of a value, for columns without a declared type.
pub(crate) fn storage_class(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "null",
        ValueRef::Integer(_) => "integer",
        ValueRef::Real(_) => "real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "blob",
    }
}

/// The JSON value of one SQLite value whose column is declared as `decl` (lower-case),
/// cut to the value cap.
pub(crate) fn value(decl: &str, v: ValueRef<'_>, cap: &mut ValueCap) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) if matches!(decl, "bool" | "boolean") && (i == 0 || i == 1) => {
            Value::Bool(i == 1)
        }
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => float(f),
        ValueRef::Text(t) if decl == "json" || decl == "jsonb" => cap.json(t),
        ValueRef::Text(t) => cap.text(t),
        ValueRef::Blob(b) => cap.bytes(b),
    }
}
