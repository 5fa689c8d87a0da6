//! Reading result values: column kinds from type names, numbers from JSON numbers and
//! DECIMAL strings, ISO-8601 instants made comparable, the fixed 64-bit hash, and the
//! unique column labels every output keys rows by.

use std::collections::HashSet;

use querent_domain::query::ColumnMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a column holds, as far as statistics, summaries, charts and exports care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Integers, floats, NUMERIC/DECIMAL (which arrive as strings).
    Numeric,
    /// Dates, times, timestamps (ISO-8601 strings).
    Temporal,
    /// Booleans (`bool`, `boolean`, MySQL `tinyint(1)`).
    Boolean,
    /// Everything else: text, UUIDs, JSON, bytes (base64)…
    String,
}

/// The kind a database type name announces, or `None` when the name says nothing (SQLite
/// often reports no type for an expression): then the values decide ([`infer_kind`]).
///
/// ```
/// use querent_results::{ColumnKind, kind_of_type};
/// assert_eq!(kind_of_type("int4"), Some(ColumnKind::Numeric));
/// assert_eq!(kind_of_type("NUMERIC(12,2)"), Some(ColumnKind::Numeric));
/// assert_eq!(kind_of_type("timestamp with time zone"), Some(ColumnKind::Temporal));
/// assert_eq!(kind_of_type("tinyint(1)"), Some(ColumnKind::Boolean));
/// assert_eq!(kind_of_type("varchar"), Some(ColumnKind::String));
/// assert_eq!(kind_of_type(""), None);
/// ```
pub fn kind_of_type(type_name: &str) -> Option<ColumnKind> {
    let t = type_name.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "" | "unknown" | "null" | "any") {
        return None;
    }
    if t == "tinyint(1)" || t == "bit(1)" {
        return Some(ColumnKind::Boolean);
    }
    let base = t
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    let kind = match base {
        "int" | "int2" | "int4" | "int8" | "integer" | "smallint" | "bigint" | "tinyint"
        | "mediumint" | "serial" | "serial2" | "serial4" | "serial8" | "smallserial"
        | "bigserial" | "real" | "float" | "float4" | "float8" | "double" | "numeric"
        | "decimal" | "dec" | "number" | "fixed" | "oid" => ColumnKind::Numeric,
        "date" | "time" | "timetz" | "timestamp" | "timestamptz" | "datetime" => {
            ColumnKind::Temporal
        }
        "bool" | "boolean" => ColumnKind::Boolean,
        _ => ColumnKind::String,
    };
    Some(kind)
}

/// The kind of a column whose type name says nothing, from its non-null values: all numbers
/// → numeric, all booleans → boolean, all ISO-8601 date/time strings → temporal, otherwise
/// (or with no values at all) string.
pub fn infer_kind<'a>(values: impl IntoIterator<Item = &'a Value>) -> ColumnKind {
    let mut inference = Inference::default();
    for v in values {
        inference.observe(v);
    }
    inference.kind()
}

/// [`infer_kind`] one value at a time (a streaming pass cannot look back).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inference {
    numbers: bool,
    bools: bool,
    temporals: bool,
    any: bool,
}

impl Default for Inference {
    fn default() -> Self {
        Self {
            numbers: true,
            bools: true,
            temporals: true,
            any: false,
        }
    }
}

impl Inference {
    /// Takes a value into account (nulls say nothing).
    pub fn observe(&mut self, v: &Value) {
        match v {
            Value::Null => return,
            Value::Number(_) => (self.bools, self.temporals) = (false, false),
            Value::Bool(_) => (self.numbers, self.temporals) = (false, false),
            Value::String(s) => {
                (self.numbers, self.bools) = (false, false);
                if self.temporals {
                    self.temporals = temporal_key(s).is_some();
                }
            }
            _ => (self.numbers, self.bools, self.temporals) = (false, false, false),
        }
        self.any = true;
    }

    /// The kind the values seen so far point to.
    pub fn kind(&self) -> ColumnKind {
        match (self.any, self.numbers, self.bools, self.temporals) {
            (true, true, _, _) => ColumnKind::Numeric,
            (true, _, true, _) => ColumnKind::Boolean,
            (true, _, _, true) => ColumnKind::Temporal,
            _ => ColumnKind::String,
        }
    }
}

/// The kind of each column: from its type name, else from the values of `rows` in that
/// column. Masked columns get a kind too, but callers never look at their values.
pub(crate) fn column_kinds(columns: &[ColumnMeta], rows: &[Vec<Value>]) -> Vec<ColumnKind> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            kind_of_type(&c.type_name)
                .unwrap_or_else(|| infer_kind(rows.iter().filter_map(|r| r.get(i))))
        })
        .collect()
}

/// A number from a JSON number or a numeric string (DECIMAL/NUMERIC arrive as strings);
/// `None` for anything else and for non-finite values (`NaN`, `Infinity`).
pub fn as_number(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => parse_decimal(s)?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// A plain decimal number (`-12`, `3.50`, `1e6`, `+.5`): what DECIMAL/NUMERIC columns send.
/// Rejects words Rust's float parser would accept (`inf`, `NaN`) and empty strings.
pub(crate) fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let plain = !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if !plain {
        return None;
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A boolean from a JSON boolean, 0/1 (MySQL `tinyint(1)`) or `t`/`f`/`true`/`false`.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "t" | "true" => Some(true),
            "f" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A parsed ISO-8601 value: the calendar parts as written and the offset, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    /// Days since 1970-01-01 of the date as written (0 for a time of day alone).
    pub days: i64,
    /// Nanoseconds since midnight as written.
    pub nanos: i64,
    /// The offset from UTC in seconds, when one was written (`Z` is 0).
    pub offset_secs: Option<i64>,
    /// Whether a date was written.
    pub has_date: bool,
    /// Whether a time of day was written.
    pub has_time: bool,
}

impl Civil {
    /// Nanoseconds since the epoch in UTC (a value without an offset is taken as UTC).
    pub fn utc_nanos(&self) -> i128 {
        let local = i128::from(self.days) * 86_400_000_000_000 + i128::from(self.nanos);
        local - i128::from(self.offset_secs.unwrap_or(0)) * 1_000_000_000
    }
}

/// A key that orders ISO-8601 dates, times and timestamps by their instant (offsets
/// normalised to UTC; a value without an offset is taken as UTC). PostgreSQL's `infinity`
/// and `-infinity` order after and before everything. `None` if `s` is not such a value.
pub(crate) fn temporal_key(s: &str) -> Option<i128> {
    match s {
        "infinity" | "+infinity" => Some(i128::MAX),
        "-infinity" => Some(i128::MIN),
        _ => parse_iso(s).map(|c| c.utc_nanos()),
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|±HH[:MM]]` or a time of day
/// alone (`HH:MM[:SS[.fff…]][offset]`).
pub(crate) fn parse_iso(s: &str) -> Option<Civil> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let y = digits(&b[0..4])?;
        let m = digits(&b[5..7])?;
        let d = digits(&b[8..10])?;
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        let rest = &s[10..];
        if rest.is_empty() {
            return Some(Civil {
                days,
                nanos: 0,
                offset_secs: None,
                has_date: true,
                has_time: false,
            });
        }
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let (nanos, offset_secs) = parse_time(rest)?;
        return Some(Civil {
            days,
            nanos,
            offset_secs,
            has_date: true,
            has_time: true,
        });
    }
    let (nanos, offset_secs) = parse_time(s)?;
    Some(Civil {
        days: 0,
        nanos,
        offset_secs,
        has_date: false,
        has_time: true,
    })
}

/// `HH:MM[:SS[.fff…]]` then an optional offset: nanoseconds since midnight and the offset.
fn parse_time(s: &str) -> Option<(i64, Option<i64>)> {
    let b = s.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let mi = digits(&b[3..5])?;
    let mut i = 5;
    let mut sec = 0;
    let mut frac_nanos = 0i64;
    if b.get(i) == Some(&b':') {
        sec = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            i += 1;
            let start = i;
            let mut scale = 100_000_000i64;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                frac_nanos += i64::from(c - b'0') * scale;
                scale /= 10;
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    // 24:00:00 is allowed (end of day); leap seconds (:60) are taken as :59.
    if h > 24 || mi > 59 || sec > 60 {
        return None;
    }
    let nanos = (h * 3600 + mi * 60 + sec.min(59)) * 1_000_000_000 + frac_nanos;
    let offset = parse_offset(&s[i..])?;
    Some((nanos, offset))
}

/// `""` (none), `Z`, `±HH`, `±HHMM` or `±HH:MM`; `None` if it is anything else.
fn parse_offset(s: &str) -> Option<Option<i64>> {
    let s = s.trim_start();
    if s.is_empty() {
        return Some(None);
    }
    if s == "Z" || s == "z" {
        return Some(Some(0));
    }
    let sign = match s.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = s[1..].replace(':', "");
    let b = rest.as_bytes();
    let (h, m) = match b.len() {
        2 => (digits(b)?, 0),
        4 => (digits(&b[0..2])?, digits(&b[2..4])?),
        6 => (digits(&b[0..2])?, digits(&b[2..4])?), // ±HH:MM:SS (seconds dropped)
        _ => return None,
    };
    (h <= 18 && m <= 59).then_some(Some(sign * (h * 3600 + m * 60)))
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0')))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A fixed 64-bit hash (the same on every run and machine): 8-byte words folded in with a
/// 128-bit multiply (as wyhash does), then a SplitMix64 finaliser so every input bit reaches every output bit
/// (HyperLogLog reads the top bits and the leading zeros of the rest).
pub(crate) fn hash64(bytes: &[u8]) -> u64 {
    const K1: u64 = 0xA076_1D64_78BD_642F;
    const K2: u64 = 0xE703_7ED1_A0B4_28DB;
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = folded_mul(h ^ u64::from_le_bytes(w), K1);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = folded_mul(h ^ u64::from_le_bytes(w), K2);
    }
    mix64(h)
}

/// The 128-bit product of two words folded to 64 bits (wyhash's mixing step).
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// SplitMix64's finaliser.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The labels rows are keyed by: the column names, with a repeated name suffixed `_2`,
/// `_3`… (skipping any label already taken), so every label is unique.
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// let col = |n: &str| ColumnMeta { name: n.into(), type_name: "text".into(), masked: false };
/// let labels = querent_results::unique_names(&[col("id"), col("id"), col("id_2"), col("id")]);
/// assert_eq!(labels, ["id", "id_3", "id_2", "id_4"]);
/// ```
pub fn unique_names(columns: &[ColumnMeta]) -> Vec<String> {
    let mut taken: HashSet<String> = columns.iter().map(|c| c.name.clone()).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    columns
        .iter()
        .map(|c| {
            if seen.insert(c.name.as_str()) {
                return c.name.clone();
            }
            let mut n = 2;
            loop {
                let candidate = format!("{}_{n}", c.name);
                if taken.insert(candidate.clone()) {
                    return candidate;
                }
                n += 1;
            }
        })
        .collect()
}

/// Formats a number for people: thousands separators, at most two decimals, no trailing
/// zeros (`1234.5` → `1,234.5`, `-0.004` → `0`, `3010` → `3,010`).
pub(crate) fn fmt_number(x: f64) -> String {
    let rounded = (x * 100.0).round() / 100.0;
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    let text = format!("{:.2}", rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let frac = frac.trim_end_matches('0');
    let sign = if rounded < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names_map_to_kinds() {
        for t in [
            "int4",
            "INTEGER",
            "REAL",
            "bigint unsigned",
            "double precision",
            "decimal(10,2)",
        ] {
            assert_eq!(kind_of_type(t), Some(ColumnKind::Numeric), "{t}");
        }
        for t in ["timestamptz", "DATETIME", "date", "time without time zone"] {
            assert_eq!(kind_of_type(t), Some(ColumnKind::Temporal), "{t}");
        }
        for t in ["bool", "BOOLEAN", "tinyint(1)"] {
            assert_eq!(kind_of_type(t), Some(ColumnKind::Boolean), "{t}");
        }
        for t in ["text", "varchar(20)", "uuid", "jsonb", "interval", "money"] {
            assert_eq!(kind_of_type(t), Some(ColumnKind::String), "{t}");
        }
        assert_eq!(kind_of_type("  "), None);
    }

    #[test]
    fn kinds_are_inferred_from_values() {
        let v = [json!(1), json!(null), json!(2.5)];
        assert_eq!(infer_kind(&v), ColumnKind::Numeric);
        let v = [json!("2024-01-01"), json!("2024-01-02T10:00:00Z")];
        assert_eq!(infer_kind(&v), ColumnKind::Temporal);
        let v = [json!(true), json!(null)];
        assert_eq!(infer_kind(&v), ColumnKind::Boolean);
        let v = [json!(1), json!("a")];
        assert_eq!(infer_kind(&v), ColumnKind::String);
        assert_eq!(infer_kind(&[json!(null)]), ColumnKind::String);
    }

    #[test]
    fn numbers_and_decimals() {
        assert_eq!(as_number(&json!("-12.50")), Some(-12.5));
        assert_eq!(as_number(&json!("1e3")), Some(1000.0));
        assert_eq!(as_number(&json!(7)), Some(7.0));
        for s in ["NaN", "Infinity", "inf", "", "12a", "-", "1,5"] {
            assert_eq!(as_number(&json!(s)), None, "{s}");
        }
        assert_eq!(as_number(&json!(true)), None);
    }

    #[test]
    fn instants_compare_across_offsets() {
        let a = temporal_key("2025-11-04T13:05:01.146+01:00").unwrap();
        let b = temporal_key("2025-11-04T12:05:01.146Z").unwrap();
        assert_eq!(a, b);
        let c = temporal_key("2025-11-04 12:05:01.2").unwrap();
        assert!(c > b);
        assert!(temporal_key("2024-02-29").is_some());
        assert!(temporal_key("2023-02-29").is_none());
        assert!(temporal_key("1999-12-31") < temporal_key("2000-01-01"));
        assert!(temporal_key("0099-01-01") < temporal_key("1970-01-01"));
        assert_eq!(temporal_key("infinity"), Some(i128::MAX));
        assert!(temporal_key("13:05:01+0200").is_some());
        assert!(temporal_key("13:05").is_some());
        for bad in [
            "hello",
            "2024-13-01",
            "2024-01-01X",
            "25:00",
            "2024-01-01T10:00+5",
        ] {
            assert!(temporal_key(bad).is_none(), "{bad}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_number(1234.5), "1,234.5");
        assert_eq!(fmt_number(3010.0), "3,010");
        assert_eq!(fmt_number(-1_234_567.891), "-1,234,567.89");
        assert_eq!(fmt_number(0.004), "0");
        assert_eq!(fmt_number(-0.001), "0");
        assert_eq!(fmt_number(999.999), "1,000");
        assert_eq!(fmt_number(42.0), "42");
    }

    #[test]
    fn the_hash_is_fixed_and_spreads() {
        assert_eq!(hash64(b"abc"), hash64(b"abc"));
        assert_ne!(hash64(b"abc"), hash64(b"abd"));
        assert_ne!(hash64(b""), hash64(b"\0"));
        // Top bits roughly balanced over sequential keys.
        let ones = (0..10_000u32)
            .filter(|i| hash64(format!("k{i}").as_bytes()) >> 63 == 1)
            .count();
        assert!((4_500..5_500).contains(&ones), "{ones}");
    }
}
