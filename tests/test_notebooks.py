"""The evaluation notebooks run end to end and save figures that read well; committed ones have no outputs.

Their defaults run on a copy of the checkout's notebooks/ and examples/ alone (no runs/, no shared data):
the embedded model on examples/my_news.csv. With parameters, they run on the tiny model.
"""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
TINY_WIRE = ROOT / "tests/fixtures/tiny_wire.jsonl"

# Injected after the cell that defines `save`: keep each saved figure, to read its texts at the end.
KEEP_FIGURES = """drawn = {}
save_png = save
def save(fig, name):
    drawn[name] = fig
    save_png(fig, name)"""

# Appended: for every saved figure, its visible texts, its annotations' places (pixels), and the axes
# (titled by their labels) that reach out of the figure: a label or tick label cut off.
DESCRIBE_FIGURES = """import json
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

def described(fig):
    canvas = FigureCanvasAgg(fig)  # a figure shown inline is closed: draw it again, as it was saved
    canvas.draw()
    renderer, box = canvas.get_renderer(), fig.bbox
    def outside(extent):
        return extent.x0 < box.x0 - 1 or extent.y0 < box.y0 - 1 or extent.x1 > box.x1 + 1 or extent.y1 > box.y1 + 1
    return {
        "texts": [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()],
        "annotations": [{"text": t.get_text(), "extent": list(t.get_window_extent(renderer).extents)}
                        for ax in fig.axes for t in ax.texts],
        "cut_off": [ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or repr(ax) for ax in fig.axes
                    if outside(ax.get_tightbbox(renderer))],
    }

print(json.dumps({name: described(fig) for name, fig in drawn.items()}))"""


def run_notebook(name: str, parameters: dict, workdir: Path) -> nbformat.NotebookNode:
    """Execute notebooks/<name> from `workdir` with `parameters` set in a cell after its parameters cell,
    as papermill does, and with the cells that describe its figures (the last cell's output)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    position = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    saving = next(i for i, cell in enumerate(notebook.cells) if "def save(" in cell.source)
    notebook.cells.insert(saving + 1, nbformat.v4.new_code_cell(KEEP_FIGURES))
    if parameters:
        assignments = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
        notebook.cells.insert(position + 1, nbformat.v4.new_code_cell(
            assignments, metadata={"tags": ["injected-parameters"]}))
    notebook.cells.append(nbformat.v4.new_code_cell(DESCRIBE_FIGURES))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def described_figures(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    return json.loads("".join(output.get("text", "") for output in notebook.cells[-1].outputs))


def shown_markdown(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(output.get("data", {}).get("text/markdown", "")
                     for cell in notebook.cells for output in cell.get("outputs", []))


def assert_pngs(folder: Path, names: list[str]) -> None:
    for name in names:
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def assert_nothing_cut_off(figures: dict[str, dict]) -> None:
    cut = {name: figure["cut_off"] for name, figure in figures.items() if figure["cut_off"]}
    assert not cut, f"axes that reach out of their figure: {cut}"


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture
def fresh_checkout(tmp_path) -> Path:
    """A checkout's notebooks and examples, with no runs/ folder and no ../shared/data beside it."""
    for folder in ("notebooks", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / "checkout" / folder)
    return tmp_path / "checkout"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])


def test_evaluation_notebook_runs_with_its_defaults_on_a_fresh_checkout(fresh_checkout):
    notebook = run_notebook("evaluation.ipynb", {}, fresh_checkout / "notebooks")
    figures = described_figures(notebook)
    assert_pngs(fresh_checkout / "runs/figures/evaluation", [
        "rouge_distribution", "summary_vs_article_length", "per_topic_f1", "precision_recall", "topic_confusion",
        "threshold_sweep_and_calibration"])
    assert_nothing_cut_off(figures)
    assert "Best and worst examples" in shown_markdown(notebook)
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "24 examples, 24 with a reference summary" in printed  # every row of my_news.csv

    # The heatmap: a number in every cell of the topics of my_news.csv, none over another, and a colour-bar label.
    heatmap = figures["topic_confusion"]
    cells = [a for a in heatmap["annotations"] if re.fullmatch(r"\d\.\d\d", a["text"])]
    assert len(cells) == 7 * 7
    assert not any(overlap(a["extent"], b["extent"]) for i, a in enumerate(cells) for b in cells[i + 1:])
    assert "share of the row's articles" in heatmap["texts"]

    # Calibration bins carry their counts, which add up to every (article, topic) cell; the sweep marks the
    # stored thresholds of the three topics the embedded model knows.
    sweep = figures["threshold_sweep_and_calibration"]["texts"]
    counts = [int(text.removeprefix("n=")) for text in sweep if text.startswith("n=")]
    assert len(counts) >= 3 and sum(counts) == 24 * 7
    assert "stored thresholds (3 labels)" in sweep and "micro F1 at the stored thresholds" in sweep


def test_compare_models_notebook_runs_with_its_defaults_on_a_fresh_checkout(fresh_checkout):
    notebook = run_notebook("compare_models.ipynb", {}, fresh_checkout / "notebooks")
    assert_pngs(fresh_checkout / "runs/figures/compare_models",
                ["paired_differences", "rouge_scatter", "per_topic_f1_comparison"])
    assert_nothing_cut_off(described_figures(notebook))
    # By default the embedded model is compared with itself without its fact guard.
    assert "fact_guard=False" in shown_markdown(notebook)


def test_evaluation_notebook_draws_every_figure_of_the_tiny_model(tiny_model_dir, tmp_path):
    figures = tmp_path / "figures"
    notebook = run_notebook("evaluation.ipynb", {
        "model_dir": str(tiny_model_dir), "data_path": str(TINY_WIRE), "split": "test", "max_examples": 4,
        "text_column": "text", "summary_column": "title", "output_dir": str(figures), "frequent_topics": 3}, tmp_path)
    assert_pngs(figures, ["rouge_distribution", "summary_vs_article_length", "per_topic_f1", "precision_recall",
                          "topic_confusion", "threshold_sweep_and_calibration"])
    assert_nothing_cut_off(described_figures(notebook))


def test_compare_models_notebook_draws_every_figure_of_the_tiny_model(tiny_model_dir, tmp_path):
    figures = tmp_path / "figures"
    notebook = run_notebook("compare_models.ipynb", {
        "model_a": str(tiny_model_dir), "model_b": str(tiny_model_dir), "generation_b": {},
        "data_path": str(TINY_WIRE), "split": "test", "max_examples": 4, "text_column": "text",
        "summary_column": "title", "output_dir": str(figures)}, tmp_path)
    assert_pngs(figures, ["paired_differences", "rouge_scatter", "per_topic_f1_comparison"])
    assert_nothing_cut_off(described_figures(notebook))
