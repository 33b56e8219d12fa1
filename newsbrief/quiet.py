"""Quiet by default: what libraries print while a model loads or data is read is not the user's business.

Loading a model prints transformers' "Loading weights" bars (one per weights file) and a FutureWarning
that peft's own code triggers (`is_gradient_checkpointing`); reading data prints a bar per file, split
and map. The Python API loads quietly unless asked (`verbose=True`); the command line is quiet for the
whole process unless `--verbose`, and keeps one bar where work takes time (training, briefing).
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from typing import Iterator

from transformers.utils import logging as transformers_logging

LIBRARY_NOISE = r".*is_gradient_checkpointing.*"
"""Warnings raised inside libraries about their own deprecations, never about the caller's code."""


@contextmanager
def quiet_loading(verbose: bool = False) -> Iterator[None]:
    """No progress bars or library warnings while a model loads, unless `verbose` or a verbose command
    (transformers' verbosity at info); everything as it was afterwards."""
    if verbose or transformers_logging.get_verbosity() <= logging.INFO:
        yield
        return
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=LIBRARY_NOISE, category=FutureWarning)
            yield
    finally:
        if bars:
            transformers_logging.enable_progress_bar()


def set_process_verbosity(verbose: bool) -> None:
    """For a command: quiet libraries for the whole run, or with `verbose` their info logs on too."""
    import datasets

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        datasets.enable_progress_bars()
        datasets.logging.set_verbosity_info()
        transformers_logging.enable_progress_bar()
        transformers_logging.set_verbosity_info()
        warnings.filterwarnings("default", message=LIBRARY_NOISE, category=FutureWarning)
        return
    datasets.disable_progress_bars()
    # Critical only: datasets logs a file it cannot parse as an error before it raises, and data.py turns
    # that exception into the one line that names the file.
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=LIBRARY_NOISE, category=FutureWarning)
