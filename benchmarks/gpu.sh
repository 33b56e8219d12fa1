#!/usr/bin/env bash
# The GPU check, in one call through the `device` tool:  bash benchmarks/gpu.sh
# Runs on the device machine's own Python and packages (nothing can be installed there): the package
# is put on PYTHONPATH rather than installed. Results land in $OUT (the tool brings them back).
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
python3 benchmarks/gpu_throughput.py --out "${OUT:-.}/gpu_throughput.json"
