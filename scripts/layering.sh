#!/usr/bin/env bash
# Enforces the crate layering of docs/DESIGN.md §1 (and docs/ARCHITECTURE.md) with `cargo tree`.
#
#   scripts/layering.sh              check the workspace; prints "layering: ok" or each violation, exit 1
#   scripts/layering.sh --self-test  prove the rules bite, on made-up dependency lists (no cargo needed)
#
# Rules (normal dependencies, transitive):
#   (a) querent-http's and querent-mcp's trees contain none of the storage/SQL/crypto/LLM/pool
#       crates below;
#   (b) querent-sql depends on no querent crate except querent-domain;
#   (c) querent-domain depends on no querent crate;
#   (d) only querent-http, querent-mcp, querent-test-support and the `querent` binary may
#       depend on querent-http or querent-app (lower crates never depend on higher ones);
#   (e) querent-results (pure computation over rows) depends on no querent crate except
#       querent-domain, and on no async runtime or database crate.
set -euo pipefail

# Crates querent-http (and querent-mcp, the other face over querent-app) must never pull in,
# directly or through another crate.
HTTP_FORBIDDEN=(diesel diesel-async diesel_migrations sqlparser ring async-openai deadpool
  deadpool-postgres tokio-postgres mysql_async rusqlite libsqlite3-sys)
# The only crates allowed to depend on querent-http / querent-app.
TOP_CRATES=(querent-http querent-mcp querent-test-support querent)
# What querent-results must not reach: it computes over rows it is given, nothing else.
RESULTS_FORBIDDEN=(tokio diesel diesel-async sqlparser deadpool tokio-postgres mysql_async
  rusqlite libsqlite3-sys reqwest)

in_list() { # in_list NEEDLE ITEM... -> 0 if NEEDLE is one of ITEMs
  local needle=$1 item
  shift
  for item in "$@"; do [[ $item == "$needle" ]] && return 0; done
  return 1
}

# check_deps CRATE < dependency list
# The list is `cargo tree -p CRATE -e normal --prefix none` output, or simply one package name
# per line (only the first word of each line is read; the crate itself may appear).
# Prints one line per violation; returns 1 if there is any.
check_deps() {
  local crate=$1 dep bad=0
  local -a deps=()
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    dep=${line%% *}
    [[ -z $dep || $dep == "$crate" ]] && continue
    in_list "$dep" "${deps[@]}" || deps+=("$dep")
  done

  for dep in "${deps[@]}"; do
    # (a) the HTTP layer maps HTTP to querent-app services and nothing else
    if [[ $crate == querent-http || $crate == querent-mcp ]] && in_list "$dep" "${HTTP_FORBIDDEN[@]}"; then
      echo "layering violation: $crate depends on $dep (directly or through another crate; the HTTP and MCP layers may only reach querent-app and querent-domain, design §1)"
      bad=1
    fi
    # (b) querent-sql is embeddable with nothing but sqlparser and domain types
    if [[ $crate == querent-sql && $dep == querent-* && $dep != querent-domain ]]; then
      echo "layering violation: querent-sql depends on $dep (only querent-domain is allowed)"
      bad=1
    fi
    # (c) querent-domain is the bottom of the stack
    if [[ $crate == querent-domain && ($dep == querent-* || $dep == querent) ]]; then
      echo "layering violation: querent-domain depends on $dep (it must depend on no querent crate)"
      bad=1
    fi
    # (e) querent-results is pure: rows in, numbers, text, charts and files out
    if [[ $crate == querent-results ]] &&
      { [[ $dep == querent-* && $dep != querent-domain ]] || in_list "$dep" "${RESULTS_FORBIDDEN[@]}"; }; then
      echo "layering violation: querent-results depends on $dep (only querent-domain and pure libraries are allowed)"
      bad=1
    fi
    # (d) nothing below the HTTP/app layers depends on them
    if [[ $dep == querent-http || $dep == querent-app ]] && ! in_list "$crate" "${TOP_CRATES[@]}"; then
      echo "layering violation: $crate depends on $dep (only ${TOP_CRATES[*]} may)"
      bad=1
    fi
  done
  return "$bad"
}

# cargo tree, offline first (works without network once Cargo.lock's crates are fetched).
tree() {
  cargo tree -q --offline "$@" 2>/dev/null || cargo tree -q "$@"
}

run_check() {
  cd "$(dirname "$(readlink -f "$0")")/.."
  local members crate deps failed=0 out
  if ! members=$(tree --workspace --depth 0 -e normal --prefix none); then
    echo "layering: cargo tree failed" >&2
    exit 2
  fi
  members=$(awk 'NF {print $1}' <<<"$members" | sort -u)
  [[ -n $members ]] || { echo "layering: no workspace members found" >&2; exit 2; }

  for crate in $members; do
    if ! deps=$(tree -p "$crate" -e normal --prefix none); then
      echo "layering: cargo tree -p $crate failed" >&2
      exit 2
    fi
    if ! out=$(check_deps "$crate" <<<"$deps"); then
      echo "$out"
      failed=1
      # Show which path brings in each forbidden crate, to make the fix obvious.
      local dep
      while IFS= read -r dep; do
        echo "  how $crate reaches $dep:"
        local path
        path=$(tree -p "$crate" -e normal -i "$dep" --prefix indent 2>/dev/null) || true
        head -n 12 <<<"$path" | sed 's/^/    /'
      done < <(sed -n 's/^layering violation: [^ ]* depends on \([^ ]*\) .*/\1/p' <<<"$out" | sort -u)
    fi
  done

  if [[ $failed -ne 0 ]]; then
    echo "layering: FAILED (see design §1)"
    exit 1
  fi
  echo "layering: ok"
}

self_test() {
  local failures=0
  expect() { # expect pass|fail CRATE DEP... : feeds DEPs to check_deps CRATE
    local want=$1 crate=$2 got
    shift 2
    if printf '%s\n' "$crate v0.1.0 (/x)" "$@" | check_deps "$crate" >/dev/null; then got=pass; else got=fail; fi
    if [[ $got == "$want" ]]; then
      echo "self-test: ok   ($want) $crate <- $*"
    else
      echo "self-test: FAIL expected $want, got $got: $crate <- $*"
      failures=$((failures + 1))
    fi
  }
  expect fail querent-http "actix-web v4.18.1" "diesel v2.3.14"
  expect fail querent-http "querent-app v0.1.0 (/x)" "ring v0.17.14 (*)"
  expect fail querent-http "libsqlite3-sys v0.35.0"
  expect pass querent-http "actix-web v4.18.1" "querent-app v0.1.0 (/x)" "querent-domain v0.1.0 (/x)" "serde v1.0.0"
  expect fail querent-mcp "rmcp v3.11.0" "querent-app v0.1.0 (/x)" "diesel v2.3.14"
  expect pass querent-mcp "rmcp v3.11.0" "querent-app v0.1.0 (/x)" "querent-domain v0.1.0 (/x)"
  expect fail querent-sql "querent-domain v0.1.0 (/x)" "querent-exec v0.1.0 (/x)"
  expect pass querent-sql "querent-domain v0.1.0 (/x)" "sqlparser v0.59.0"
  expect fail querent-domain "querent-vault v0.1.0 (/x)"
  expect pass querent-domain "serde v1.0.0" "uuid v1.0.0"
  expect fail querent-store "querent-app v0.1.0 (/x)"
  expect fail querent-exec "querent-http v0.1.0 (/x)"
  expect pass querent-test-support "querent-http v0.1.0 (/x)" "querent-app v0.1.0 (/x)"
  expect pass querent "querent-http v0.1.0 (/x)" "querent-app v0.1.0 (/x)" "diesel v2.3.14"
  expect pass querent-results "querent-domain v0.1.0 (/x)" "rust_xlsxwriter v0.102.0" "serde_json v1.0.0"
  expect fail querent-results "querent-sql v0.1.0 (/x)"
  expect fail querent-results "tokio v1.48.0"
  if [[ $failures -ne 0 ]]; then
    echo "layering self-test: $failures case(s) wrong"
    exit 1
  fi
  echo "layering self-test: ok (the check rejects forbidden dependencies)"
}

case "${1:-}" in
  --self-test) self_test ;;
  "") run_check "$0" ;;
  -h | --help) sed -n '2,12p' "$0" ;;
  *)
    echo "usage: $0 [--self-test]" >&2
    exit 2
    ;;
esac
