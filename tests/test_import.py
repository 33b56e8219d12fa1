"""`import newsbrief` loads what inference needs and no more: the GPU image has no `datasets`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_importing_newsbrief_does_not_import_datasets():
    # A fresh interpreter: this one has imported datasets through other tests.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", "import newsbrief, sys; assert 'datasets' not in sys.modules"],
                   check=True, env=env, cwd=ROOT)
