#!/usr/bin/env bash
# Fuzzes the SQL guard (crates/querent-sql/fuzz, target `guard`) for SECONDS (default 600).
# Needs a nightly toolchain and cargo-fuzz (installed from crates.io when missing). Seeds
# come from the adversarial and benign corpora in crates/querent-exec/tests/corpus; a crash
# is written to crates/querent-sql/fuzz/artifacts/guard/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
seconds=${1:-600}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
seeds=crates/querent-sql/fuzz/corpus/guard
mkdir -p "$seeds"
for f in crates/querent-exec/tests/corpus/hostile.sql crates/querent-exec/tests/corpus/benign.sql; do
  grep -v '^#' "$f" | grep -v '^$' | while IFS= read -r line; do
    line=${line//\{NL\}/$'\n'}
    line=${line//\{DB\}/test}
    printf '%s' "$line" >"$seeds/seed_$(printf '%s' "$line" | md5sum | cut -c1-16)"
  done
done
cd crates/querent-sql/fuzz
exec cargo +nightly fuzz run guard -- -max_total_time="$seconds" -rss_limit_mb=4096
