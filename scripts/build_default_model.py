"""Build the embedded default model, newsbrief/default_model, from configs/default-model.yaml.

    python scripts/build_default_model.py
    python scripts/build_default_model.py --evaluate-only   # after a change to decoding: steps 3 and 4 only
    python scripts/build_default_model.py --retune-thresholds --evaluate-only   # steps 2 to 4, installed model
    python scripts/build_default_model.py --pretraining-set train.max_steps=1800   # a longer first stage

Positional key.sub=value settings override configs/default-model.yaml, `--pretraining-set` ones the
pretraining stage's config; a run interrupted is resumed by the same command.

1. `train` the pretraining stage (configs/default-model-pretrain.yaml: gap sentences of unlabeled
   bodies), then the config, which starts from it; a finished run only exports its best checkpoint
   again, so this is also how a model is re-exported after a change to the export code, and a rerun
   after an interruption resumes whichever stage was going.
2. Tune its topic thresholds again on the whole validation split, with the model as it loads (fp32), and
   measure its card's validation sample with them (`retune_thresholds`).
3. `evaluate` it on the test split of each shared corpus, with its fact guard and without (reports
   under runs/default-model/test-* and test-*-unguarded).
4. Install the exported files as newsbrief/default_model, with the test results, each beside its
   first-10-words baseline, added to the model card.
With `--evaluate-only` the installed model is evaluated as it is (decoding, the guard and the spelling
are code, not weights) and its card's test sections are written again; `--retune-thresholds` first
tunes its thresholds again.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from newsbrief.config import RunConfig, SourceConfig, load_config
from newsbrief.data import Collator
from newsbrief.evaluation import evaluate, render_markdown
from newsbrief.infer.engine import load_briefer
from newsbrief.infer.loading import DEFAULT_MODEL
from newsbrief.models.model_dir import LABELS_FILE, read_run_config
from newsbrief.train.checkpointing import latest_checkpoint
from newsbrief.train.loop import train, validation_sample
from newsbrief.train.model_card import validation_section, with_validation_section
from newsbrief.train.validation import tuned_thresholds, validate, whole_validation_split

SUMMARY_TARGETS = """
## Summary targets
The summaries are trained on the published headlines of all three corpora. A headline is one line
that an editor wrote for the article (7 words on average in the Reuters test split), so the model
learns to write a short, abstractive line rather than to copy a paragraph. The BBC reference summaries
were not used: they are extracts of about 46% of the article (172 words on average), which would teach the model to
copy its first paragraphs. Reuters headlines are in capitals; the model's tokenizer is uncased, and
`newsbrief/infer/spelling.py` gives each summary word the case and spacing it has in the article.
Only faithful headlines are targets (`data.summary_targets: faithful`): one that states a name or number
the article's first 128 tokens lack (a Reuters ticker, an earnings quarter the body's table leaves out)
loses its tickers and trailing credit where that is enough, and otherwise trains the topics only.
"""

ROOT = Path(__file__).parents[1]
PRETRAIN_CONFIG = ROOT / "configs" / "default-model-pretrain.yaml"
CONFIG = ROOT / "configs" / "default-model.yaml"
BASELINE = "first_10_words"
TEST_RESULTS = "\n## Test results\n"
FP32 = {"dtype": "fp32"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="key.sub=value settings for the config")
    parser.add_argument("--pretraining-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a key.sub=value setting for the pretraining stage's config (repeatable)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="evaluate the installed model again and rewrite its card's test sections")
    parser.add_argument("--retune-thresholds", action="store_true",
                        help="with --evaluate-only: first tune the installed model's topic thresholds again")
    args = parser.parse_args()

    config = load_config(CONFIG, args.overrides)
    if args.retune_thresholds and not args.evaluate_only:
        parser.error("--retune-thresholds goes with --evaluate-only (a build tunes them anyway)")
    if args.pretraining_set and args.evaluate_only:
        parser.error("--pretraining-set is for a build; --evaluate-only trains nothing")
    if args.evaluate_only:
        if args.retune_thresholds:
            retune_thresholds(DEFAULT_MODEL)
        reports, unguarded = evaluate_all(DEFAULT_MODEL, config)
        card = DEFAULT_MODEL / "README.md"
        card.write_text(card.read_text().split(TEST_RESULTS)[0] + test_results(reports)
                        + faithfulness_results(reports, unguarded))
        print(test_results(reports) + faithfulness_results(reports, unguarded))
        return
    pretraining = load_config(PRETRAIN_CONFIG, args.pretraining_set)
    train(pretraining)
    model_dir = train(config)
    retune_thresholds(model_dir)
    reports, unguarded = evaluate_all(model_dir, config)
    install(model_dir, reports, unguarded, pretraining_time(Path(pretraining.train.output_dir)))


def retune_thresholds(model_dir: Path) -> None:
    """Tune the topic thresholds of the model in `model_dir` again on the whole validation split of the config it
    was trained with, from the probabilities of the model as it loads (fp32, on the CPU), and measure its card's
    validation sample with them.

    The loop tunes them on the model in training, which the export rounds (adapters in fp16); tuning on the
    installed model makes them the ones its weights give (README, "Two commands"), and the count
    printed shows any difference between training and export instead of shipping it silently."""
    config = read_run_config(model_dir)
    if not config.train.tune_thresholds:
        return
    briefer = load_briefer(model_dir, device="cpu", **FP32)
    validation = whole_validation_split(config, briefer.tokenizer, briefer.labels)
    if validation is None:
        return
    thresholds = tuned_thresholds(briefer, validation, config.train.threshold_min_positives)
    changed = int((thresholds != briefer.thresholds).sum())
    print(f"topic thresholds tuned again on {len(validation)} validation articles: {changed} of {len(thresholds)} "
          "changed")
    metrics = validate(briefer.model, briefer.tokenizer, briefer.labels, config, validation_sample(validation, config),
                       Collator(briefer.tokenizer.pad_token_id), thresholds)
    card = model_dir / "README.md"
    rewritten = with_validation_section(card.read_text(), validation_section(config, metrics))
    briefer.labels.save(model_dir / LABELS_FILE, thresholds.tolist())
    card.write_text(rewritten)


def evaluate_all(model_dir: Path, config: RunConfig) -> tuple[dict[str, dict], dict[str, dict]]:
    """Each corpus' test split with the model's fact guard and without; reports saved in the run folder."""
    reports, unguarded = {}, {}
    for source in config.data.sources:
        name = source.display_name()
        test_split = SourceConfig(path=source.path, summary_column="title")
        # fp32 on every CPU, so that the card's figures are the same wherever they are measured again
        # (dtype="auto" is bf16 on CPUs with bf16 instructions; README: the quality test of bf16 against fp32)
        reports[name] = evaluate(model_dir, test_split, "test", progress=True, load=FP32).report
        unguarded[name] = evaluate(model_dir, test_split, "test", progress=True, load=FP32,
                                   generation={"fact_guard": False}).report
        for folder, report in ((f"test-{name}", reports[name]), (f"test-{name}-unguarded", unguarded[name])):
            out = Path(config.train.output_dir) / folder
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
            (out / "report.md").write_text(render_markdown(report))
    return reports, unguarded


def pretraining_time(run: Path) -> str:
    """The pretraining stage's loop time, from its last checkpoint (the card of stage 2 times stage 2)."""
    state = json.loads((latest_checkpoint(run) / "trainer_state.json").read_text())
    return (f"\n## Pretraining\nThe summarizer started from gap-sentence pretraining "
            f"(`configs/default-model-pretrain.yaml`, {state['step']} steps): {state['train_seconds'] / 60:.1f} min on "
            f"the same hardware, before the training time above.\n")


def install(model_dir: Path, reports: dict[str, dict], unguarded: dict[str, dict], pretraining: str) -> None:
    shutil.rmtree(DEFAULT_MODEL, ignore_errors=True)
    shutil.copytree(model_dir, DEFAULT_MODEL)
    card = DEFAULT_MODEL / "README.md"
    exported_at = f'NewsBrief.from_pretrained("{model_dir}")'  # the card names where training exported it
    card.write_text(card.read_text().replace(exported_at, "NewsBrief.from_pretrained()")
                    + pretraining + SUMMARY_TARGETS + test_results(reports) + faithfulness_results(reports, unguarded))
    size = sum(f.stat().st_size for f in DEFAULT_MODEL.iterdir()) / 1e6
    print(test_results(reports) + faithfulness_results(reports, unguarded))
    print(f"installed in {DEFAULT_MODEL} ({size:.1f} MB)")


def test_results(reports: dict[str, dict]) -> str:
    """One row per corpus: topic figures and headline ROUGE, the first-10-words baseline beside it."""
    rows = []
    for name, report in reports.items():
        topics, rouge = report["model"]["topics"], report["model"]["rouge"]
        baseline = report.get("rouge_baselines", {}).get(BASELINE, {})
        accuracy = f"{topics['accuracy']:.4f}" if "accuracy" in topics else "-"
        scores = " / ".join(f"{100 * rouge[k]['mean']:.2f}" for k in ("rouge1", "rouge2", "rougeL"))
        base = " / ".join(f"{100 * baseline[k]['mean']:.2f}" for k in ("rouge1", "rouge2", "rougeL"))
        rows.append(f"| {name} | {report['examples']} | {len(topics['per_label'])} | {topics['micro_f1']:.4f} | "
                    f"{topics['macro_f1']:.4f} | {accuracy} | {scores} | {base} |")
    load = next(iter(reports.values()))["load"]  # dtype="auto" is bf16 or fp32 by the CPU: say which it was
    return (TEST_RESULTS + "`newsbrief evaluate` on each corpus' test split (`scripts/build_default_model.py`), "
            f"weights in {load['dtype']} on {load['device']}. "
            "Topics over the labels that occur in the split, at the stored thresholds; labels the model never "
            "learned count as misses. ROUGE F-measure (stemmed) of the summary against the published headline.\n\n"
            "| corpus | articles | labels | micro-F1 | macro-F1 | accuracy (top label) | headline ROUGE-1/2/L | "
            "first 10 words ROUGE-1/2/L |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows) + "\n")


def faithfulness_results(reports: dict[str, dict], unguarded: dict[str, dict]) -> str:
    """One row per corpus: invented names and numbers with the fact guard and without, readability defects."""
    def share(report: dict, key: str) -> str:
        figure = report["model"]["faithfulness"][key]
        return f"{100 * figure['mean']:.2f}% [{100 * figure['low']:.2f}, {100 * figure['high']:.2f}]"

    rows = [f"| {name} | {share(report, 'summaries_with_unsupported')} | "
            f"{share(unguarded[name], 'summaries_with_unsupported')} | "
            f"{report['model']['faithfulness']['guard_fallbacks']} | {share(report, 'summaries_with_defects')} | "
            f"{share(unguarded[name], 'summaries_with_defects')} |" for name, report in reports.items()]
    return ("\n## Faithfulness on the test splits\nSummaries that state a name or number their article lacks, and "
            "summaries with a readability defect (rules: `newsbrief/faithfulness.py`, `newsbrief/readability.py`), "
            "mean [95% bootstrap interval], with the fact guard (as shipped) and without (`newsbrief evaluate "
            "--no-fact-guard`). Fallbacks: summaries the guard blocked, written unguarded and flagged.\n\n"
            "| corpus | unsupported, guard on | unsupported, guard off | fallbacks | defects, guard on | "
            "defects, guard off |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
