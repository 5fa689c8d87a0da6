//! Turning database values into typed JSON (design §4): integers stay JSON integers, floats
//! are numbers (non-finite ones `null`), NUMERIC/DECIMAL are strings, dates `YYYY-MM-DD`,
//! times `HH:MM:SS[.ffffff]`, timestamps `YYYY-MM-DDTHH:MM:SS[.ffffff]`, timestamps with a
//! time zone RFC 3339 in UTC (`…Z`), UUIDs strings, JSON as JSON, bytes base64 (standard
//! alphabet, padded), NULL `null`.
//!
//! The formats every driver shares are here; each driver's own decoding is its
//! `values.rs` (`drivers/<name>/values.rs`).

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
pub(crate) fn push_fraction(out: &mut String, micros: i64) {
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
