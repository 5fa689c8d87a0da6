//! Turning database values into typed JSON (design §4): integers stay JSON integers, floats
//! are numbers (non-finite ones `null`), NUMERIC/DECIMAL are strings, dates `YYYY-MM-DD`,
//! times `HH:MM:SS[.ffffff]`, timestamps `YYYY-MM-DDTHH:MM:SS[.ffffff]`, timestamps with a
//! time zone RFC 3339 in UTC (`…Z`), UUIDs strings, JSON as JSON, bytes base64 (standard
//! alphabet, padded), NULL `null`.

use base64::Engine as _;
use serde_json::{Number, Value};

/// Bytes as standard, padded base64.
pub(crate) fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A float as a JSON number, or `null` when it is NaN or infinite.
pub(crate) fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Text that should hold JSON: the parsed document, or the text itself when it does not
/// parse.
pub(crate) fn json_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is in 1..=31 and m in 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `YYYY-MM-DD` for a day count since 1970-01-01 (years before 1 or after 9999 are written
/// with a sign or more digits, as ISO 8601's expanded form).
pub(crate) fn format_date(days_since_unix_epoch: i64) -> String {
    let (y, m, d) = civil_from_days(days_since_unix_epoch);
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:+05}-{m:02}-{d:02}")
    }
}

/// Microseconds in a day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// `HH:MM:SS` plus `.ffffff` without trailing zeros when there is a fraction.
pub(crate) fn format_time_of_day(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = format!("{h:02}:{m:02}:{s:02}");
    push_fraction(&mut out, frac);
    out
}

/// Appends `.ffffff` (trailing zeros trimmed) when `micros` is not zero.
fn push_fraction(out: &mut String, micros: i64) {
    if micros != 0 {
        let f = format!(".{micros:06}");
        out.push_str(f.trim_end_matches('0'));
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` for microseconds since 1970-01-01T00:00:00.
pub(crate) fn format_timestamp(micros_since_unix_epoch: i64) -> String {
    let days = micros_since_unix_epoch.div_euclid(MICROS_PER_DAY);
    let rest = micros_since_unix_epoch.rem_euclid(MICROS_PER_DAY);
    format!("{}T{}", format_date(days), format_time_of_day(rest))
}

/// A UTC offset (seconds east of UTC) as `Z` or `±HH:MM[:SS]`.
pub(crate) fn format_offset(seconds_east: i64) -> String {
    if seconds_east == 0 {
        return "Z".to_owned();
    }
    let sign = if seconds_east < 0 { '-' } else { '+' };
    let a = seconds_east.abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// PostgreSQL's binary formats.
pub(crate) mod pg {
    use serde_json::Value;
    use tokio_postgres::types::{FromSql, Kind, Type};

    use super::{
        MICROS_PER_DAY, float, format_date, format_offset, format_time_of_day, format_timestamp,
    };
    use crate::deliver::{ValueCap, json_size};

    /// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
    const PG_EPOCH_DAYS: i64 = 10_957;

    /// A column's raw binary value, whatever its type (`None` for NULL).
    pub(crate) struct Raw<'a>(pub &'a [u8]);

    impl<'a> FromSql<'a> for Raw<'a> {
        fn from_sql(
            _: &Type,
            raw: &'a [u8],
        ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Raw(raw))
        }

        fn accepts(_: &Type) -> bool {
            true
        }
    }

    /// The lower-case type name reported for a column.
    pub(crate) fn type_name(ty: &Type) -> String {
        ty.name().to_lowercase()
    }

    /// How the server cuts long values of this type before sending them (see
    /// `ValidatedSql::with_value_caps`).
    pub(crate) fn cut(ty: &Type) -> querent_sql::ValueCut {
        use querent_sql::ValueCut;
        match *ty {
            Type::BOOL
            | Type::INT2
            | Type::INT4
            | Type::INT8
            | Type::OID
            | Type::XID
            | Type::CID
            | Type::FLOAT4
            | Type::FLOAT8
            | Type::NUMERIC
            | Type::MONEY
            | Type::CHAR
            | Type::UUID
            | Type::DATE
            | Type::TIME
            | Type::TIMETZ
            | Type::TIMESTAMP
            | Type::TIMESTAMPTZ
            | Type::INTERVAL
            | Type::INET
            | Type::CIDR
            | Type::MACADDR
            | Type::MACADDR8 => ValueCut::Keep,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                ValueCut::Text
            }
            Type::XML | Type::JSONPATH | Type::BIT | Type::VARBIT => ValueCut::TextCast,
            Type::BYTEA => ValueCut::Bytes,
            Type::JSON => ValueCut::Json,
            Type::JSONB => ValueCut::Jsonb,
            _ => match ty.kind() {
                Kind::Enum(_) => ValueCut::Keep,
                Kind::Domain(base) => cut(base),
                _ if matches!(ty.name(), "citext") => ValueCut::TextCast,
                _ => ValueCut::AsJson,
            },
        }
    }

    fn be<const N: usize>(raw: &[u8]) -> Option<[u8; N]> {
        raw.get(..N)?.try_into().ok()
    }

    fn i16_at(raw: &[u8], at: usize) -> Option<i16> {
        raw.get(at..).and_then(be::<2>).map(i16::from_be_bytes)
    }

    fn i32_at(raw: &[u8], at: usize) -> Option<i32> {
        raw.get(at..).and_then(be::<4>).map(i32::from_be_bytes)
    }

    fn i64_at(raw: &[u8], at: usize) -> Option<i64> {
        raw.get(at..).and_then(be::<8>).map(i64::from_be_bytes)
    }

    /// The JSON value of one binary-format value of type `ty` (NULL is handled by the
    /// caller), cut to the value cap. Malformed input gives `null` rather than an error.
    pub(crate) fn value(ty: &Type, raw: &[u8], cap: &mut ValueCap) -> Value {
        let v = decode(ty, raw, cap).unwrap_or(Value::Null);
        cap.value(v)
    }

    fn decode(ty: &Type, raw: &[u8], cap: &mut ValueCap) -> Option<Value> {
        let v = match *ty {
            Type::BOOL => Value::Bool(*raw.first()? != 0),
            Type::INT2 => i16_at(raw, 0)?.into(),
            Type::INT4 => i32_at(raw, 0)?.into(),
            Type::INT8 => i64_at(raw, 0)?.into(),
            Type::OID | Type::XID | Type::CID => u32::from_be_bytes(be::<4>(raw)?).into(),
            Type::FLOAT4 => float(f64::from(f32::from_be_bytes(be::<4>(raw)?))),
            Type::FLOAT8 => float(f64::from_be_bytes(be::<8>(raw)?)),
            Type::NUMERIC => Value::String(numeric(raw)?),
            Type::MONEY => Value::String(money(i64_at(raw, 0)?)),
            Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
            | Type::UNKNOWN
            | Type::XML
            | Type::JSONPATH => cap.text(raw),
            Type::CHAR => Value::String(char::from(*raw.first()?).to_string()),
            Type::JSON => cap.json(raw),
            Type::JSONB => match raw.split_first() {
                Some((1, doc)) => cap.json(doc),
                _ => return None,
            },
            Type::BYTEA => cap.bytes(raw),
            Type::UUID => Value::String(uuid(raw)?),
            Type::DATE => Value::String(date(i32_at(raw, 0)?)),
            Type::TIME => Value::String(format_time_of_day(i64_at(raw, 0)?)),
            Type::TIMETZ => {
                let micros = i64_at(raw, 0)?;
                // Stored as seconds *west* of UTC.
                let west = i32_at(raw, 8)?;
                Value::String(format!(
                    "{}{}",
                    format_time_of_day(micros),
                    format_offset(-i64::from(west))
                ))
            }
            Type::TIMESTAMP => Value::String(timestamp(i64_at(raw, 0)?, "")),
            Type::TIMESTAMPTZ => Value::String(timestamp(i64_at(raw, 0)?, "Z")),
            Type::INTERVAL => {
                Value::String(interval(i64_at(raw, 0)?, i32_at(raw, 8)?, i32_at(raw, 12)?))
            }
            Type::INET | Type::CIDR => Value::String(inet(raw)?),
            Type::MACADDR => Value::String(hex_colon(raw.get(..6)?)),
            Type::MACADDR8 => Value::String(hex_colon(raw.get(..8)?)),
            Type::BIT | Type::VARBIT => Value::String(bits(raw)?),
            _ => match ty.kind() {
                Kind::Enum(_) => cap.text(raw),
                Kind::Domain(base) => return decode(base, raw, cap),
                Kind::Array(elem) => array(elem, raw, cap)?,
                // Extension text types whose binary form is their text.
                _ if matches!(ty.name(), "citext") => cap.text(raw),
                _ => Value::Null,
            },
        };
        Some(v)
    }

    fn date(days: i32) -> String {
        match days {
            i32::MAX => "infinity".to_owned(),
            i32::MIN => "-infinity".to_owned(),
            d => format_date(i64::from(d) + PG_EPOCH_DAYS),
        }
    }

    fn timestamp(micros: i64, suffix: &str) -> String {
        match micros {
            i64::MAX => "infinity".to_owned(),
            i64::MIN => "-infinity".to_owned(),
            m => match m.checked_add(PG_EPOCH_DAYS * MICROS_PER_DAY) {
                Some(unix) => format!("{}{suffix}", format_timestamp(unix)),
                None => "infinity".to_owned(),
            },
        }
    }

    /// NUMERIC's binary form: ndigits, weight, sign, dscale, then base-10000 digits.
    pub(crate) fn numeric(raw: &[u8]) -> Option<String> {
        let ndigits = usize::try_from(i16_at(raw, 0)?).ok()?;
        let weight = i64::from(i16_at(raw, 2)?);
        let sign = u16::from_be_bytes(be::<2>(raw.get(4..)?)?);
        let dscale = usize::from(u16::from_be_bytes(be::<2>(raw.get(6..)?)?));
        match sign {
            0xC000 => return Some("NaN".to_owned()),
            0xD000 => return Some("Infinity".to_owned()),
            0xF000 => return Some("-Infinity".to_owned()),
            _ => {}
        }
        let digits: Vec<i16> = (0..ndigits)
            .map(|i| i16_at(raw, 8 + 2 * i))
            .collect::<Option<_>>()?;
        let digit = |i: i64| -> i16 {
            usize::try_from(i)
                .ok()
                .and_then(|i| digits.get(i).copied())
                .unwrap_or(0)
        };
        let mut out = String::new();
        if sign == 0x4000 {
            out.push('-');
        }
        if weight < 0 {
            out.push('0');
        } else {
            for i in 0..=weight {
                if i == 0 {
                    out.push_str(&digit(i).to_string());
                } else {
                    out.push_str(&format!("{:04}", digit(i)));
                }
            }
        }
        if dscale > 0 {
            let mut frac = String::new();
            let mut i = weight + 1;
            while frac.len() < dscale {
                frac.push_str(&format!("{:04}", digit(i)));
                i += 1;
            }
            frac.truncate(dscale);
            out.push('.');
            out.push_str(&frac);
        }
        Some(out)
    }

    /// MONEY is a count of cents (for the usual two-decimal locales).
    fn money(cents: i64) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let a = cents.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    fn uuid(raw: &[u8]) -> Option<String> {
        let b = raw.get(..16)?;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Some(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// INTERVAL as PostgreSQL prints it by default (`1 year 2 mons 3 days 04:05:06`).
    fn interval(micros: i64, days: i32, months: i32) -> String {
        let mut parts = Vec::new();
        let plural = |n: i64, one: &str, many: &str| {
            format!("{n} {}", if n.abs() == 1 { one } else { many })
        };
        let (years, mons) = (i64::from(months) / 12, i64::from(months) % 12);
        if years != 0 {
            parts.push(plural(years, "year", "years"));
        }
        if mons != 0 {
            parts.push(plural(mons, "mon", "mons"));
        }
        if days != 0 {
            parts.push(plural(i64::from(days), "day", "days"));
        }
        if micros != 0 || parts.is_empty() {
            let sign = if micros < 0 { "-" } else { "" };
            let a = i64::try_from(micros.unsigned_abs()).unwrap_or(i64::MAX);
            let secs = a / 1_000_000;
            let mut t = format!(
                "{sign}{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            );
            super::push_fraction(&mut t, a % 1_000_000);
            parts.push(t);
        }
        parts.join(" ")
    }

    fn inet(raw: &[u8]) -> Option<String> {
        let (family, bits, is_cidr, len) = (*raw.first()?, *raw.get(1)?, *raw.get(2)?, raw.get(3)?);
        let addr = raw.get(4..4 + usize::from(*len))?;
        let (text, full) = match family {
            2 => {
                let a: [u8; 4] = addr.try_into().ok()?;
                (std::net::Ipv4Addr::from(a).to_string(), 32)
            }
            3 => {
                let a: [u8; 16] = addr.try_into().ok()?;
                (std::net::Ipv6Addr::from(a).to_string(), 128)
            }
            _ => return None,
        };
        Some(if is_cidr != 0 || bits != full {
            format!("{text}/{bits}")
        } else {
            text
        })
    }

    fn hex_colon(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    fn bits(raw: &[u8]) -> Option<String> {
        let n = usize::try_from(i32_at(raw, 0)?).ok()?;
        let data = raw.get(4..)?;
        (0..n)
            .map(|i| {
                let byte = data.get(i / 8)?;
                Some(if byte & (0x80 >> (i % 8)) != 0 {
                    '1'
                } else {
                    '0'
                })
            })
            .collect()
    }

    /// The binary array format: ndim, has-nulls flag, element oid, (length, lower bound)
    /// per dimension, then each element as a length (-1 for NULL) and its bytes. An array
    /// whose elements pass the value cap keeps the leading elements that fit, flattened.
    fn array(elem: &Type, raw: &[u8], cap: &mut ValueCap) -> Option<Value> {
        let ndim = usize::try_from(i32_at(raw, 0)?).ok()?;
        if ndim == 0 {
            return Some(Value::Array(Vec::new()));
        }
        let mut dims = Vec::with_capacity(ndim);
        for d in 0..ndim {
            dims.push(usize::try_from(i32_at(raw, 12 + 8 * d)?).ok()?);
        }
        let mut at = 12 + 8 * ndim;
        let total: usize = dims.iter().product();
        let mut elems = Vec::with_capacity(total.min(1 << 16));
        let mut size = 2u64;
        for _ in 0..total {
            let len = i32_at(raw, at)?;
            at += 4;
            let v = if len < 0 {
                Value::Null
            } else {
                let len = usize::try_from(len).ok()?;
                let v = value(elem, raw.get(at..at + len)?, cap);
                at += len;
                v
            };
            size += json_size(&v) + 1;
            if size > cap.max() as u64 {
                cap.count_cut();
                return Some(Value::Array(elems));
            }
            elems.push(v);
        }
        let mut iter = elems.into_iter();
        Some(nest(&dims, &mut iter))
    }

    fn nest(dims: &[usize], elems: &mut impl Iterator<Item = Value>) -> Value {
        match dims.split_first() {
            None => elems.next().unwrap_or(Value::Null),
            Some((n, rest)) => Value::Array((0..*n).map(|_| nest(rest, elems)).collect()),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn numeric_bytes(weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
            let mut v = Vec::new();
            v.extend_from_slice(&i16::try_from(digits.len()).unwrap().to_be_bytes());
            v.extend_from_slice(&weight.to_be_bytes());
            v.extend_from_slice(&sign.to_be_bytes());
            v.extend_from_slice(&dscale.to_be_bytes());
            for d in digits {
                v.extend_from_slice(&d.to_be_bytes());
            }
            v
        }

        #[test]
        fn numerics() {
            assert_eq!(
                numeric(&numeric_bytes(1, 0, 2, &[1, 2345, 6700])).unwrap(),
                "12345.67"
            );
            assert_eq!(
                numeric(&numeric_bytes(-1, 0x4000, 5, &[12])).unwrap(),
                "-0.00120"
            );
            assert_eq!(numeric(&numeric_bytes(0, 0, 0, &[])).unwrap(), "0");
            assert_eq!(numeric(&numeric_bytes(0, 0, 3, &[])).unwrap(), "0.000");
            assert_eq!(numeric(&numeric_bytes(2, 0, 0, &[7])).unwrap(), "700000000");
            assert_eq!(numeric(&numeric_bytes(0, 0xC000, 0, &[])).unwrap(), "NaN");
        }

        #[test]
        fn intervals() {
            assert_eq!(interval(0, 0, 0), "00:00:00");
            assert_eq!(
                interval(4 * 3_600_000_000 + 5_500_000, 3, 14),
                "1 year 2 mons 3 days 04:00:05.5"
            );
            assert_eq!(interval(-1_000_000, 1, 0), "1 day -00:00:01");
        }

        #[test]
        fn timestamps_and_dates() {
            assert_eq!(date(0), "2000-01-01");
            assert_eq!(date(-1), "1999-12-31");
            assert_eq!(date(i32::MAX), "infinity");
            assert_eq!(timestamp(1_500_000, "Z"), "2000-01-01T00:00:01.5Z");
            assert_eq!(timestamp(i64::MIN, ""), "-infinity");
        }
    }
}

/// MySQL and MariaDB text-protocol values.
pub(crate) mod mysql {
    use mysql_async::consts::{ColumnFlags, ColumnType};
    use serde_json::Value;

    use super::float;
    use crate::deliver::ValueCap;

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
            MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB => {
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
    pub(crate) fn value(
        col: &mysql_async::Column,
        v: mysql_async::Value,
        cap: &mut ValueCap,
    ) -> Value {
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
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => {
                as_text().parse::<f64>().map_or(Value::Null, float)
            }
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
}

/// SQLite values: they follow their storage class, with two conveniences driven by the
/// declared type (`BOOL`/`BOOLEAN` integers 0/1 become booleans, `JSON` text is parsed).
pub(crate) mod sqlite {
    use rusqlite::types::ValueRef;
    use serde_json::Value;

    use super::float;
    use crate::deliver::ValueCap;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(19_724), "2024-01-02");
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(format_date(-719_528), "0000-01-01");
        assert_eq!(format_date(2_932_897), "+10000-01-01");
        assert_eq!(format_time_of_day(3_723_000_000), "01:02:03");
        assert_eq!(format_time_of_day(3_723_120_000), "01:02:03.12");
        assert_eq!(
            format_timestamp(1_704_164_645_000_000),
            "2024-01-02T03:04:05"
        );
        assert_eq!(format_offset(0), "Z");
        assert_eq!(format_offset(-5 * 3600 - 1800), "-05:30");
        assert_eq!(format_offset(3600), "+01:00");
    }

    #[test]
    fn scalars() {
        assert_eq!(float(f64::NAN), Value::Null);
        assert_eq!(float(1.5), serde_json::json!(1.5));
        assert_eq!(base64(b"\x00\x01\xff"), serde_json::json!("AAH/"));
        assert_eq!(json_text(br#"{"a":1}"#), serde_json::json!({"a": 1}));
        assert_eq!(json_text(b"nope"), serde_json::json!("nope"));
    }
}
