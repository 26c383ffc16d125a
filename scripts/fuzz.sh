#!/usr/bin/env bash
# Runs each fuzz target for a fixed time (default 600 s each):
#   bash scripts/fuzz.sh [seconds] [target...]
# Targets: json_select, json_mutations (fuzz/fuzz_targets). Needs cargo-fuzz
# (installed here when missing). The machine's Rust is stable, so nightly-only
# flags are enabled with RUSTC_BOOTSTRAP=1. New corpus entries go to
# target/fuzz-corpus/<target> (the checked-in seeds in fuzz/corpus stay as
# they are); crashes go to fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(json_select json_mutations)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
  work="target/fuzz-corpus/$target"
  mkdir -p "$work"
  echo "==> fuzzing $target for ${seconds}s"
  (cd fuzz && cargo fuzz run --release "$target" "../$work" "corpus/$target" -- \
     -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 -timeout=10) 2>&1 | tee "target/fuzz-$target.log" |
     grep -E "^(#[0-9]+.*(DONE|INITED)|stat::|==[0-9]+==|SUMMARY|Done)" || true
done
