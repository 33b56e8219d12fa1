"""The evaluation notebooks run end to end on the tiny model and save their figures; committed ones have no outputs."""

from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
TINY_WIRE = ROOT / "tests/fixtures/tiny_wire.jsonl"


def run_notebook(name: str, parameters: dict, workdir: Path) -> nbformat.NotebookNode:
    """Execute notebooks/<name> with `parameters` set in a cell after its parameters cell, as papermill does."""
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    position = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    assignments = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    injected = nbformat.v4.new_code_cell(assignments, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(position + 1, injected)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def assert_pngs(folder: Path, names: list[str]) -> None:
    for name in names:
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])


def test_evaluation_notebook_draws_every_figure(tiny_model_dir, tmp_path):
    figures = tmp_path / "figures"
    notebook = run_notebook("evaluation.ipynb", {
        "model_dir": str(tiny_model_dir), "data_path": str(TINY_WIRE), "split": "test", "max_examples": 4,
        "output_dir": str(figures), "frequent_topics": 3}, tmp_path)
    assert_pngs(figures, ["rouge_distribution", "summary_vs_article_length", "per_topic_f1", "precision_recall",
                          "topic_confusion", "threshold_sweep_and_calibration"])
    shown = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in shown)
    assert any("Best and worst examples" in output.get("data", {}).get("text/markdown", "") for output in shown)


def test_compare_models_notebook_draws_every_figure(tiny_model_dir, tmp_path):
    figures = tmp_path / "figures"
    run_notebook("compare_models.ipynb", {
        "model_a": str(tiny_model_dir), "model_b": str(tiny_model_dir), "data_path": str(TINY_WIRE),
        "split": "test", "max_examples": 4, "output_dir": str(figures)}, tmp_path)
    assert_pngs(figures, ["paired_differences", "rouge_scatter", "per_topic_f1_comparison"])
