//! # querent-domain
//!
//! The bottom of Querent's crate stack: identifiers (newtypes over UUIDv7), enums shared by
//! every layer (`Dialect`, `ExecutionMode`, `Role`, `TeamRole`, `SslMode`, …), plain entities,
//! and the stable machine error codes ([`ErrorCode`]) that the HTTP layer maps to statuses.
//! What is true of each SQL dialect whoever asks — its name, default port, whether it is a
//! file, how it quotes and folds identifiers, its reserved words, how it writes string
//! literals — is a method of [`Dialect`] (`dialect.rs`), decided once per dialect. In the
//! same way, the English every reader of questions shares — words, singulars, stems,
//! identifier abbreviations, stop words and filler — is decided once in [`text`].
//!
//! It also defines the **ports** ([`ports`]): the traits through which querent-app reaches
//! the outside world — the metadata store, the cryptography of the vault, target databases.
//! The adapters (querent-store, querent-vault, querent-exec, …) implement them and the
//! binary wires them together, so the service and HTTP layers never link diesel, ring,
//! sqlparser or a database driver. [`Secret`] lives here too, so every layer can carry a
//! secret without being able to print it.
//!
//! Depends on: serde, uuid, time, thiserror, async-trait (and utoipa behind the `openapi`
//! feature). Must never: perform I/O, depend on any other Querent crate, or know about
//! HTTP, SQL parsing, storage engines or cryptographic primitives. Everything here is plain
//! data and trait definitions.
//!
//! ## Example
//!
//! ```
//! use querent_domain::{Dialect, ErrorCode, Secret};
//!
//! let code: ErrorCode = "not_found".parse().unwrap();
//! assert_eq!((code.as_str(), code.http_status()), ("not_found", 404));
//! assert_eq!(Dialect::Mysql.quote_identifier("order"), "`order`");
//! assert_eq!(format!("{:?}", Secret::new("pw")), "Secret([redacted])");
//! ```
//!
//! More in `examples/domain_types.rs` (`cargo run -p querent-domain --example domain_types`).

pub mod aliases;
pub mod chat;
mod codes;
mod dialect;
pub mod embed;
mod entities;
mod ids;
pub mod invitations;
mod kinds;
pub mod learning;
pub mod ports;
mod privacy;
pub mod providers;
pub mod query;
pub mod schema;
mod secret;
pub mod semantic;
pub mod sharing;
pub mod text;
pub mod webhook;
pub mod workspace;

pub use codes::{ErrorCode, HasErrorCode};
pub use dialect::CaseFolding;
pub use entities::*;
pub use ids::*;
pub use kinds::*;
pub use secret::Secret;

/// Milliseconds since the Unix epoch; the store keeps every timestamp in this form.
pub type UnixMillis = i64;

/// The current time in [`UnixMillis`].
pub fn now_millis() -> UnixMillis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Formats [`UnixMillis`] as RFC 3339 (UTC), the form every API response uses:
/// always three fractional digits (`2026-12-07T12:06:29.120Z`), so that times
/// compare and sort as strings — with the fraction trimmed, `…:29Z` sorted
/// after `…:29.5Z`, and a client ordering by the string got it wrong.
pub fn millis_to_rfc3339(ms: UnixMillis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, month, day) = t.to_calendar_date();
    format!(
        "{year:04}-{:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        u8::from(month),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC) into [`UnixMillis`].
pub fn parse_time(s: &str) -> Option<UnixMillis> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let mut parts = s.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let d = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn parses_times_and_dates() {
        assert_eq!(super::parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(super::parse_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(super::parse_time("2024-02-30"), None);
        assert_eq!(super::parse_time("yesterday"), None);
    }

    #[test]
    fn formatted_times_have_a_fixed_width_and_sort_as_strings() {
        use super::millis_to_rfc3339 as f;
        assert_eq!(f(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(f(1_796_645_189_120), "2026-12-07T12:06:29.120Z");
        let times = [
            1_796_645_189_000,
            1_796_645_189_005,
            1_796_645_189_500,
            1_796_645_190_000,
        ];
        for w in times.windows(2) {
            assert!(f(w[0]) < f(w[1]), "{} {}", f(w[0]), f(w[1]));
        }
        for ms in times {
            assert_eq!(super::parse_time(&f(ms)), Some(ms));
        }
    }
}
