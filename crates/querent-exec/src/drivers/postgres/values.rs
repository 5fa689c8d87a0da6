//! PostgreSQL's binary formats.

use serde_json::Value;
use tokio_postgres::types::{FromSql, Kind, Type};

use crate::deliver::{ValueCap, json_size};
use crate::values::{
    MICROS_PER_DAY, float, format_date, format_offset, format_time_of_day, format_timestamp,
};

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// A column's raw binary value, whatever its type (`None` for NULL).
pub(crate) struct Raw<'a>(pub &'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
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
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => ValueCut::Text,
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
    let plural =
        |n: i64, one: &str, many: &str| format!("{n} {}", if n.abs() == 1 { one } else { many });
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
        crate::values::push_fraction(&mut t, a % 1_000_000);
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
