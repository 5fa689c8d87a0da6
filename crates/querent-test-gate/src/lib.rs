//! # querent-test-gate
//!
//! The one place that decides what a test does when something it needs is missing: a
//! database server, the evaluation suites in `../shared/eval`, the local embedding model.
//!
//! - By default the test is **skipped**: it returns early, and the gate writes a line
//!   starting with `SKIPPED` straight to the process's standard error. libtest captures
//!   `println!`/`eprintln!` of passing tests, so a skip written that way would only show
//!   as `ok`; this line is not captured and appears in `cargo test`'s output next to the
//!   test's `ok` (grep `^SKIPPED` to count them).
//! - When the requirement's variable is `1` the test **fails** instead, naming what was
//!   missing: [`SERVICES`] (`QUERENT_REQUIRE_SERVICES=1`, set by CI) for database servers
//!   and the evaluation suites, [`EMBED_MODEL`] (`QUERENT_REQUIRE_EMBED_MODEL=1`) for the
//!   local embedding model, [`BROWSER`] (`QUERENT_REQUIRE_BROWSER=1`) for headless Chromium
//!   and chromedriver.
//!
//! ```
//! /// Returns early (or fails under QUERENT_REQUIRE_SERVICES=1) without PostgreSQL.
//! fn a_test_that_needs_postgres() {
//!     if !querent_test_gate::tcp("PostgreSQL", "127.0.0.1:5432") {
//!         return;
//!     }
//!     // … talk to PostgreSQL …
//! }
//! ```
//!
//! Depends on: the standard library only, so every crate can use it as a dev-dependency
//! (the TCP probe is a blocking connect with a two-second timeout, fine for a test).
//! Must never: be a normal dependency, or reach anything but the address it is given.

#![allow(
    // Test tooling: a failure here is a failed test, and it may block (files, fixtures).
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use std::fmt::Display;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Something a test may need, with the environment variable that turns its absence from
/// a skip into a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The variable that, set to `1`, makes a missing requirement fail the test.
    pub var: &'static str,
}

/// Local services and files the whole suite expects on a developer's machine and in CI:
/// PostgreSQL, MariaDB, `../shared/eval`. `QUERENT_REQUIRE_SERVICES=1` makes them required.
pub const SERVICES: Requirement = Requirement {
    var: "QUERENT_REQUIRE_SERVICES",
};

/// The local sentence-transformer model of querent-embed (`QUERENT_REQUIRE_EMBED_MODEL=1`
/// makes it required; CI sets it only for the run that fetched the model).
pub const EMBED_MODEL: Requirement = Requirement {
    var: "QUERENT_REQUIRE_EMBED_MODEL",
};

/// Headless Chromium and chromedriver, for the web console's browser tests
/// (`QUERENT_REQUIRE_BROWSER=1` makes them required; CI installs both and sets it).
pub const BROWSER: Requirement = Requirement {
    var: "QUERENT_REQUIRE_BROWSER",
};

static SKIPPED: AtomicUsize = AtomicUsize::new(0);

impl Requirement {
    /// Whether a missing requirement fails the test (`var` is `1`).
    pub fn required(&self) -> bool {
        std::env::var(self.var).is_ok_and(|v| v == "1")
    }

    /// Reports that `what` is unavailable (`why`): panics when [`required`](Self::required),
    /// else writes the `SKIPPED` line. Returns `false`, so a check can end in it.
    pub fn missing(&self, what: &str, why: impl Display) -> bool {
        // Straight to the process's stderr, past libtest's capture (see the crate doc).
        self.report(self.required(), what, why, &mut std::io::stderr().lock())
    }

    fn report(&self, required: bool, what: &str, why: impl Display, out: &mut dyn Write) -> bool {
        let test = current_test();
        if required {
            panic!(
                "{test}: {what} is required ({}=1) but unavailable: {why}",
                self.var
            );
        }
        let n = SKIPPED.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = writeln!(
            out,
            "SKIPPED {test}: {what} unavailable ({why}); set {}=1 to fail instead [skip {n} of this binary]",
            self.var
        );
        false
    }

    /// Whether a TCP connection to `addr` succeeds within two seconds; reports `what`
    /// [`missing`](Self::missing) when not.
    pub fn tcp(&self, what: &str, addr: &str) -> bool {
        match probe(addr) {
            Ok(()) => true,
            Err(why) => self.missing(&format!("{what} at {addr}"), why),
        }
    }

    /// Whether `path` exists; reports `what` [`missing`](Self::missing) when not.
    pub fn path(&self, what: &str, path: &Path) -> bool {
        path.exists() || self.missing(what, format_args!("{} is absent", path.display()))
    }

    /// `value` when present; reports `what` [`missing`](Self::missing) (with `why`) and
    /// returns `None` otherwise.
    pub fn some<T>(&self, what: &str, value: Option<T>, why: impl Display) -> Option<T> {
        if value.is_none() {
            self.missing(what, why);
        }
        value
    }
}

/// [`SERVICES`]`.missing(what, why)`: a service or file the suite expects is unavailable.
pub fn missing(what: &str, why: impl Display) -> bool {
    SERVICES.missing(what, why)
}

/// [`SERVICES`]`.tcp(what, addr)`: whether a local service accepts TCP connections.
pub fn tcp(what: &str, addr: &str) -> bool {
    SERVICES.tcp(what, addr)
}

/// [`SERVICES`]`.path(what, path)`: whether a file or directory the suite expects exists.
pub fn path(what: &str, path: &Path) -> bool {
    SERVICES.path(what, path)
}

/// How many tests of this binary the gate has skipped so far.
pub fn skipped() -> usize {
    SKIPPED.load(Ordering::Relaxed)
}

/// The running test's name: libtest runs each test on a thread named after it.
fn current_test() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => "a test".to_owned(),
    }
}

fn probe(addr: &str) -> Result<(), String> {
    let addrs = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?;
    let mut last = String::from("no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEVER: Requirement = Requirement {
        var: "QUERENT_TEST_GATE_NEVER_SET",
    };

    #[test]
    fn a_missing_requirement_is_skipped_out_loud_and_counted() {
        let before = skipped();
        let mut out = Vec::new();
        assert!(!NEVER.report(false, "a thing", "it is not there", &mut out));
        let line = String::from_utf8(out).expect("utf-8");
        assert!(
            line.starts_with(
                "SKIPPED tests::a_missing_requirement_is_skipped_out_loud_and_counted: \
                 a thing unavailable (it is not there); set QUERENT_TEST_GATE_NEVER_SET=1"
            ),
            "{line}"
        );
        assert!(skipped() > before);
    }

    #[test]
    #[should_panic(expected = "a thing is required (QUERENT_TEST_GATE_NEVER_SET=1)")]
    fn a_required_requirement_fails() {
        NEVER.report(true, "a thing", "it is not there", &mut Vec::new());
    }

    #[test]
    fn present_things_pass() {
        assert!(NEVER.path("the crate", Path::new(env!("CARGO_MANIFEST_DIR"))));
        assert_eq!(NEVER.some("a value", Some(3), "absent"), Some(3));
        let open = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        let addr = open.local_addr().expect("addr").to_string();
        assert!(NEVER.tcp("a listener", &addr));
    }

    #[test]
    fn a_closed_port_does_not_answer() {
        // Bind, learn the port, close it: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        assert!(probe(&format!("127.0.0.1:{port}")).is_err());
    }
}
