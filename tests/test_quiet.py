"""Quiet by default: loading a model shows no library bars or warnings; `verbose` / `--verbose` shows them."""

from __future__ import annotations

import warnings

import pytest
from transformers.utils import logging as transformers_logging

from newsbrief import NewsBrief
from newsbrief.cli import main
from newsbrief.infer.loading import DEFAULT_MODEL
from newsbrief.quiet import set_process_verbosity

from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def library_defaults():
    """A command sets the process's verbosity; give the next test the libraries' defaults back."""
    yield
    set_process_verbosity(False)
    transformers_logging.set_verbosity_warning()
    transformers_logging.enable_progress_bar()


def test_loading_the_default_model_prints_nothing(capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NewsBrief.from_pretrained(DEFAULT_MODEL, device="cpu")
    assert [str(w.message) for w in caught] == []
    assert capfd.readouterr().err == ""


def test_verbose_loading_shows_the_libraries_bars(capfd):
    NewsBrief.from_pretrained(DEFAULT_MODEL, device="cpu", verbose=True)
    assert "Loading weights" in capfd.readouterr().err


@pytest.mark.parametrize("verbose", [False, True])
def test_predict_shows_one_bar_and_more_with_verbose(tiny_model_dir, tmp_path, capfd, verbose):
    main(["predict", "--model", str(tiny_model_dir), "--input", str(ROOT / "examples/articles.jsonl"),
          "--output", str(tmp_path / "briefs.jsonl")] + (["--verbose"] if verbose else []))
    err = capfd.readouterr().err
    assert "briefing" in err and "7 briefed" in err
    assert ("Loading weights" in err) is verbose
    assert "Warning" not in err or verbose
