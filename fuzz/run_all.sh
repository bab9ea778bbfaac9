#!/usr/bin/env bash
# Run every fuzz target for SECONDS each, one after another, logging to fuzz/logs/.
#   fuzz/run_all.sh 60            # quick pass (about 15 minutes)
#   fuzz/run_all.sh 600 dpkg rpm  # ten minutes each of the named targets only
# Crashing inputs land in fuzz/crashes/<target>/. New inputs go to fuzz/work/<target>/ (not
# committed); the seeds in fuzz/corpus/<target>/ (written by fuzz/make_corpus.py) are only read.
# Exit status: 0 when no target crashed, 1 otherwise. A summary line per target is printed
# and kept in fuzz/logs/summary-<stamp>.txt (target, seconds, executions, result).
set -u
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run_all.sh SECONDS [TARGET...]}
shift
python=${PYTHON:-.venv/bin/python}
# The seeds are generated (from ../shared/fixtures and the tests' inputs), not committed.
[ -f fuzz/corpus/.complete ] || { "$python" fuzz/make_corpus.py >/dev/null && touch fuzz/corpus/.complete; }
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for script in fuzz/fuzz_*.py; do
        name=${script#fuzz/fuzz_}
        targets+=("${name%.py}")
    done
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p fuzz/logs
summary=fuzz/logs/summary-$stamp.txt
status=0
for target in "${targets[@]}"; do
    log=fuzz/logs/$target-$stamp.log
    mkdir -p "fuzz/crashes/$target" "fuzz/work/$target"
    # -timeout: one input taking longer is a hang; -rss_limit_mb: a tiny input must not
    # need gigabytes. -max_len covers the largest seeds (rpm databases).
    "$python" "fuzz/fuzz_$target.py" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=131072 -print_final_stats=1 \
        -artifact_prefix="fuzz/crashes/$target/" "fuzz/work/$target" "fuzz/corpus/$target" >"$log" 2>&1
    code=$?
    runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ "$code" -eq 0 ]; then result=ok; else result="CRASH (exit $code)"; status=1; fi
    printf '%-12s %5ss %10s execs  %s  %s\n' "$target" "$seconds" "${runs:-?}" "$result" \
        "$log" | tee -a "$summary"
done
exit $status
