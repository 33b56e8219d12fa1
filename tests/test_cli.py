"""The command line: `newsbrief evaluate` reports as JSON and Markdown, `newsbrief train` names a bad key."""

import json
import shutil

import pytest
import yaml

from newsbrief.cli import main

from tests.conftest import ROOT, TINY_CONFIG


def test_evaluate_prints_a_json_report_with_intervals_topics_and_baselines(tiny_model_dir, capsys):
    main(["evaluate", "--model", str(tiny_model_dir), "--data", str(ROOT / "tests/fixtures/tiny_wire.jsonl"),
          "--split", "test"])
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 5 and report["seed"] == 0
    rouge = report["model"]["rouge"]
    assert set(rouge) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert rouge["rouge1"]["low"] <= rouge["rouge1"]["mean"] <= rouge["rouge1"]["high"]
    topics = report["model"]["topics"]
    assert {"micro_f1", "macro_f1", "samples_f1", "threshold_sweep", "calibration"} <= topics.keys()
    assert set(topics["per_label"]) == {"acq", "crude", "earn", "energy"}  # only this corpus' labels
    first_words = report["rouge_baselines"]["first_10_words"]["rouge1"]["mean"]
    assert 0 < first_words <= 1 and {"lead_1", "lead_3"} <= report["rouge_baselines"].keys()
    assert report["model"]["truncation"]["articles_truncated"] == 0


def test_evaluate_with_a_baseline_model_writes_reproducible_reports(tiny_model_dir, tmp_path, capsys):
    arguments = ["evaluate", "--model", str(tiny_model_dir), "--data", str(ROOT / "tests/fixtures/tiny_wire.jsonl"),
                 "--baseline-model", str(tiny_model_dir), "--seed", "3"]
    main(arguments + ["--out", str(tmp_path / "first")])
    main(arguments + ["--out", str(tmp_path / "second")])
    assert "report.md" in capsys.readouterr().out
    first, second = (json.loads((tmp_path / run / "report.json").read_text()) for run in ("first", "second"))
    for report in (first, second):  # timing is the one figure a rerun changes
        report["model"].pop("articles_per_second"), report["baseline_model"].pop("articles_per_second")
    assert first == second
    assert first["comparison"]["rouge"]["rougeL"]["difference"] == 0  # a model against itself
    assert first["comparison"]["rouge"]["rougeL"]["p_value"] == 1.0
    markdown = (tmp_path / "first" / "report.md").read_text()
    assert "## Summaries: ROUGE F1" in markdown and "## Model against baseline model" in markdown


def test_evaluate_judges_a_load_setting_against_the_model_itself(tiny_model_dir, tmp_path, capsys):
    data = str(ROOT / "tests/fixtures/tiny_wire.jsonl")
    main(["evaluate", "--model", str(tiny_model_dir), "--data", data, "--dtype", "fp32", "--baseline-dtype", "fp32",
          "--out", str(tmp_path / "same")])
    assert "Verdict: acceptable: none of the" in capsys.readouterr().out
    report = json.loads((tmp_path / "same" / "report.json").read_text())
    assert report["baseline_model_path"] == str(tiny_model_dir)  # the model itself, not the embedded one
    assert report["load"] == report["baseline_load"] == {"device": "cpu", "dtype": "float32", "int8": False,
                                                         "compile": False}
    comparison = report["comparison"]
    assert comparison["verdict"]["acceptable"] and "topics.micro_f1" in comparison["verdict"]["compared"]
    for section in ("rouge", "topics", "faithfulness"):
        assert all(r["difference"] == r["low"] == r["high"] == 0 for r in comparison[section].values()), section

    main(["evaluate", "--model", str(tiny_model_dir), "--data", data, "--int8", "--no-baseline-int8"])
    report = json.loads(capsys.readouterr().out)
    assert report["load"]["int8"] and not report["baseline_load"]["int8"]
    assert "verdict" in report["comparison"]


def test_a_baseline_with_other_settings_and_no_directory_of_its_own_is_the_model_itself(tiny_model_dir):
    from newsbrief.config import SourceConfig
    from newsbrief.evaluation import evaluate

    source = SourceConfig(path=str(ROOT / "tests/fixtures/tiny_wire.jsonl"), summary_column="title", max_examples=2)
    report = evaluate(tiny_model_dir, source, baseline_generation={"fact_guard": False}, resamples=20).report
    assert report["baseline_model_path"] == str(tiny_model_dir)
    with pytest.raises(ValueError, match="load setting 'dtpye': unknown"):
        evaluate(tiny_model_dir, source, baseline_load={"dtpye": "bf16"})


def test_evaluate_reads_long_articles_as_asked(tiny_model_dir, tmp_path, capsys):
    long_article = " ".join(f"Oil prices rose for the {i}th day as supply fell." for i in range(12))  # ~4 windows
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps({"id": "1", "text": long_article, "title": "Oil rises", "topics": ["crude"],
                                "split": "test"}) + "\n")
    truncated = {}
    for mode in ("truncate", "chunk"):
        main(["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--long-articles", mode])
        report = json.loads(capsys.readouterr().out)
        assert report["long_articles"] == mode
        truncated[mode] = report["model"]["truncation"]["articles_truncated"]
    assert truncated == {"truncate": 1, "chunk": 0}


def test_asking_for_chunk_mode_that_the_model_window_cannot_hold_names_the_setting(tiny_model_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    config = yaml.safe_load((model / "newsbrief.yaml").read_text())
    config["inference"]["chunk_overlap"] = 40  # the window is 64 tokens
    (model / "newsbrief.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match="inference.chunk_overlap: must be at least 0 and under half"):
        main(["predict", "--model", str(model), "--input", str(ROOT / "examples/articles.jsonl"),
              "--output", str(tmp_path / "briefs.jsonl"), "--long-articles", "chunk"])


def test_train_with_a_misspelt_override_exits_naming_the_key(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(TINY_CONFIG), "train.lerning_rate=0.1"])
    assert "train.lerning_rate: unknown key" in str(exit_info.value)


def test_exit_codes_say_the_cause_and_help_lists_them(tmp_path, capsys):
    cases = [  # command, exit code
        (["train", str(tmp_path / "absent.yaml")], 3),
        (["predict", "--input", str(tmp_path / "absent.jsonl"), "--output", str(tmp_path / "o.jsonl")], 4),
        (["predict", "--input", str(TINY_CONFIG), "--output", str(tmp_path / "o.jsonl")], 4),
        (["predict", "--input", str(ROOT / "examples/articles.jsonl"), "--output", str(tmp_path / "o.txt")], 5),
        (["predict", "--model", str(tmp_path), "--input", str(ROOT / "examples/articles.jsonl"),
          "--output", str(tmp_path / "o.jsonl")], 6),
        (["predict", "--input", "x.jsonl", "--output", "o.jsonl", "--actors", "2"], 2),
        (["predict", "--output", "o.jsonl"], 2),  # argparse: --input missing
    ]
    for command, code in cases:
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == code, command
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "5 output unwritable or locked by another run" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("option", ["--dtype", "--baseline-dtype"])
def test_an_unknown_dtype_is_refused_with_the_arguments_naming_the_option(tiny_model_dir, tmp_path, capsys, option):
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "never-read.jsonl"), option, "fp8"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert exited.value.code == 2 and f"argument {option}: expected auto or one of" in error and "'fp8'" in error


def test_evaluate_max_examples_is_a_stratified_seeded_sample_that_the_report_states(tiny_model_dir, tmp_path, capsys):
    rows = [{"id": f"{topic}-{n}", "text": f"A {topic} report number {n}. It says more.", "title": f"{topic} {n}",
             "topics": [topic], "split": "test"} for topic in ("earn", "acq", "crude") for n in range(10)]
    data = tmp_path / "sorted.jsonl"  # sorted by topic: the first 6 rows are all earn
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    main(["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--max-examples", "6", "--out",
          str(tmp_path / "eval")])
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert report["examples"] == 6
    assert report["sample"] == "a random sample of 6 of 30 examples, seed 0, stratified by each example's rarest topic"
    assert set(report["model"]["topics"]["per_label"]) == {"earn", "acq", "crude"}
    assert report["sample"] in (tmp_path / "eval" / "report.md").read_text()


def test_evaluate_without_model_uses_the_embedded_model(tmp_path, capsys):
    from newsbrief.infer.loading import DEFAULT_MODEL

    data = tmp_path / "two.jsonl"
    data.write_text("".join(json.dumps({"text": text, "title": "t", "topics": ["business"], "split": "test"}) + "\n"
                            for text in ("Acme Corp said profit rose 12 percent.", "Oil rose to 19 dlrs a barrel.")))
    main(["evaluate", "--data", str(data)])
    report = json.loads(capsys.readouterr().out)
    assert report["model_path"] == str(DEFAULT_MODEL) and report["examples"] == 2
