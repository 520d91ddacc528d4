#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) each, one after the other, with AddressSanitizer.
# The stable toolchain builds the sanitizer instrumentation with RUSTC_BOOTSTRAP=1; on a nightly
# toolchain it is not needed. New inputs go to fuzz/work/<target> (not committed); the committed
# seeds are fuzz/corpus/<target>. Crashes land in fuzz/artifacts/<target>.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for t in "${targets[@]}"; do
  mkdir -p "fuzz/work/$t"
  echo "== $t: ${seconds}s"
  cargo fuzz run "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 12
done
