"""Evaluation metrics shipped inside the package, so they load with no network.

`evaluate.load("rouge")` fetches its script from the Hugging Face Hub; these modules are loaded
from their file path instead, which `evaluate` resolves locally and never sends to the Hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import evaluate

_METRICS_DIR = Path(__file__).parent

#: Names accepted by `load_metric`; each is a module file beside this one.
KNOWN_METRICS = ("rouge", "topic_f1")


def load_metric(name: str, **load_kwargs) -> evaluate.EvaluationModule:
    """Load the shipped metric `name` ("rouge" or "topic_f1") as an `evaluate` module.

    `load_kwargs` go to `evaluate.load` (e.g. `keep_in_memory`, or `process_id`, `num_process`
    and `experiment_id` for distributed evaluation).
    """
    if name not in KNOWN_METRICS:
        raise ValueError(f"unknown metric {name!r}; known metrics: {', '.join(KNOWN_METRICS)}")
    # Imported here so that `import newsbrief` stays fast for callers that never evaluate.
    import evaluate

    # An existing file path makes `evaluate` load the script locally; a bare name would go to the Hub.
    return evaluate.load(str(_METRICS_DIR / f"{name}.py"), **load_kwargs)
