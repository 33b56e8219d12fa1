#!/usr/bin/env bash
# Re-measure, in one go, every CPU benchmark figure that README.md and benchmarks/README.md cite.
# Run it on an otherwise idle machine (about 1.5 h on 2 cores before issue 19 added sides and the profile), from anywhere:
#   bash benchmarks/remeasure.sh            # logs in runs/remeasure/<script>.log
#   ONLY="train_throughput dropout_cost" bash benchmarks/remeasure.sh   # only these
# Each script's whole output is kept; the lines that carry the cited figures are printed again at the end.
# The GPU figure is not here: it needs the device machine (`bash benchmarks/gpu.sh` through the device tool).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
LOGS="${LOGS:-runs/remeasure}"
mkdir -p "$LOGS"
failed=()

wanted() {  # ONLY="NAME ...": run only these benchmarks (e.g. the ones an interrupted run did not reach)
    [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}

measure() {  # measure NAME COMMAND...: run one benchmark, its output to the screen and to $LOGS/NAME.log
    local name=$1
    shift
    wanted "$name" || return 0
    echo "== $name: $*"
    "$@" 2>&1 | tee "$LOGS/$name.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("$name")
}

# benchmarks/README.md table, row by row, with the commands its "run" column gives; inference first, since
# it carries the most cited figures, then training
# README "Faithful summaries" (the guard's cost) and the table's vs_pipeline row, on the embedded model
measure vs_pipeline python benchmarks/vs_pipeline.py --model newsbrief/default_model
if [ -d runs/minilm-news/model ]; then  # the table's own command, where that training run exists
    measure vs_pipeline-minilm python benchmarks/vs_pipeline.py --model runs/minilm-news/model
fi
if python -c "import ctranslate2" 2>/dev/null; then
    measure vs_ctranslate2 python benchmarks/vs_ctranslate2.py          # ~25 min before newsbrief-fast joined
elif wanted vs_ctranslate2; then
    echo "== vs_ctranslate2 skipped: pip install ctranslate2, then: python benchmarks/vs_ctranslate2.py"
    failed+=("vs_ctranslate2 (not installed)")
fi
measure encoder_limit python benchmarks/encoder_limit.py --model newsbrief/default_model   # not yet timed
# issue 19 item 3: where `newsbrief predict`'s main thread spends its time on 2,000 real articles; not yet timed
measure batch_job_profile python benchmarks/batch_job_profile.py --model newsbrief/default_model --articles 2000
measure batch_job_memory python benchmarks/batch_job_memory.py          # ~9 min
measure greedy_syncs python benchmarks/greedy_syncs.py                  # ~1 min
measure ray_overhead python benchmarks/ray_overhead.py
measure train_throughput python benchmarks/train_throughput.py          # ~18 min
measure dropout_cost python benchmarks/dropout_cost.py                  # ~4 min; also README "Configs" (1.73)

echo
echo "== the cited figures (whole outputs in $LOGS/)"
grep -H -E "ratio|growth|fact guard|encoder pass alone|syncs/step|s a step|matmul limit|against newsbrief fp32|not measured, compute_type|of the job" \
    "$LOGS"/*.log
if [ ${#failed[@]} -gt 0 ]; then
    echo "not measured: ${failed[*]}"
    exit 1
fi
