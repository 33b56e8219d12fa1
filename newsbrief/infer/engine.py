"""NewsBrief: load a model directory and brief articles in length-sorted, token-budget batches."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from newsbrief.config import GenerationConfig, RunConfig
from newsbrief.hub import model_directory, push_directory, save_directory
from newsbrief.labels import LabelSpace
from newsbrief.infer.batching import token_budget_batches
from newsbrief.infer.encoding import Windows, encode_articles
from newsbrief.infer.inputs import Article, articles_of, count, generation_settings
from newsbrief.infer.optimize import compile_model, quantize_int8
from newsbrief.infer.spelling import ArticleSpelling, is_wordpiece
from newsbrief.models.checkpoint import load_model
from newsbrief.models.fact_guard import ArticleUnits, FactGuard, Vocabulary
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.quiet import quiet_loading


@dataclass
class Brief:
    """One article's briefing."""

    id: str
    summary: str
    topics: list[tuple[str, float]]
    """(label, probability) for every label at or above its threshold, most probable first."""
    truncated: bool = False
    """Part of the article fell outside the text the model read (see inference.long_articles)."""
    scores: dict[str, float] | None = field(default=None, repr=False)
    """Every label's probability, when asked for with `all_scores=True`."""
    guard_fallback: bool = False
    """The fact guard (generation.fact_guard) blocked every way to finish this summary, so it is unguarded."""
    error: str | None = None
    """Why this item was not briefed ("item 3: 'text' is empty"; summary and topics empty), as the batch job's
    error records say; None for a brief."""


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """auto: bf16 (or fp16) on GPUs, fp32 on CPU, where reduced precision is slower, not faster."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]


DEFAULT_MODEL = Path(__file__).parents[1] / "default_model"
"""The embedded model (configs/default-model.yaml): a delta over the pip-installed MiniLM, about 14 MB."""

STREAM_CHUNK = 1024
"""Articles sorted and batched together: larger chunks pad less, smaller ones hold less in memory."""


class NewsBrief:
    def __init__(self, model: NewsBriefModel, tokenizer, labels: LabelSpace, thresholds: list[float],
                 config: RunConfig, source: Path | None = None):
        self.source = source
        """The model directory this engine was loaded from: what save_pretrained and push_to_hub write."""
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.config = config
        self.wordpiece = is_wordpiece(tokenizer)  # decoding loses the article's case and spacing: restore them

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "auto",
                        dtype: str | torch.dtype = "auto", int8: bool = False, compile: bool = False, *,
                        revision: str | None = None, token: str | bool | None = None,
                        cache_dir: str | Path | None = None, trust_remote_code: bool = False,
                        verbose: bool = False) -> "NewsBrief":
        """Load a model directory or a Hub repository ("org/name" at `revision`, through the Hugging Face
        cache), by default the embedded model; `int8` quantizes linear layers (CPU), `compile` runs
        torch.compile. Code that a downloaded model names runs only with `trust_remote_code=True`.
        Libraries' loading bars and warnings are shown only when `verbose`."""
        target = resolve_device(device)
        directory = DEFAULT_MODEL if path is None else model_directory(path, revision, token, cache_dir,
                                                                       trust_remote_code)
        with quiet_loading(verbose):
            loaded = load_model(directory, device=target, dtype=resolve_dtype(dtype, target),
                                trust_remote_code=trust_remote_code)
        model = quantize_int8(loaded.model) if int8 else loaded.model
        if compile:
            compile_model(model)
        return cls(model, loaded.tokenizer, loaded.labels, loaded.thresholds, loaded.config, source=directory)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the model directory this engine was loaded from to `directory`, with a Hub model card."""
        return save_directory(self._source(), self.config, directory)

    def push_to_hub(self, repo_id: str, *, revision: str | None = None, private: bool | None = None,
                    token: str | bool | None = None, commit_message: str = "Upload NewsBrief model"):
        """Upload the model directory to the Hub repository `repo_id` (created if needed) in one commit."""
        return push_directory(self._source(), self.config, repo_id, revision=revision, private=private,
                              token=token, commit_message=commit_message)

    def _source(self) -> Path:
        if self.source is None:
            raise ValueError("this NewsBrief was not loaded from a model directory: nothing to save "
                             "(training exports one, see `newsbrief train`)")
        return self.source

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict(self, articles: Any, all_scores: bool = False, progress: bool = False, *,
                text_column: str = "text", id_column: str = "id", **generation: Any) -> list[Brief]:
        """Brief articles: one text, or texts, records (dicts), a pandas DataFrame, a `datasets` Dataset or
        IterableDataset, any iterable of texts and records, with the text in `text_column` and an optional
        id in `id_column` (else the item's position). A bad item (None, no text, empty or invisible text)
        gets a Brief whose `error` names it, as the batch job writes an error record (infer/inputs.py).

        Keyword arguments override the checkpoint's generation settings for this call (num_beams,
        max_new_tokens, min_new_tokens, no_repeat_ngram_size, repetition_penalty, length_penalty,
        fact_guard); an unknown one or an impossible value is a ValueError naming it. `progress` shows a bar.
        """
        return list(self.predict_stream(articles, all_scores=all_scores, progress=progress, text_column=text_column,
                                        id_column=id_column, **generation))

    def predict_one(self, text: str, **kwargs: Any) -> Brief:
        return self.predict([text], **kwargs)[0]

    def predict_stream(self, articles: Any, chunk_size: int = STREAM_CHUNK, all_scores: bool = False,
                       progress: bool = False, *, text_column: str = "text", id_column: str = "id",
                       **generation: Any) -> Iterator[Brief]:
        """Briefs in input order, `chunk_size` articles at a time, for streams of any length.

        The next chunk is tokenized in a background thread while the model works on this one
        (tokenizers release the GIL), so the accelerator does not wait for the CPU.
        """
        settings = generation_settings(self.config.generation, generation)
        records = articles_of(articles, text_column, id_column)
        with ThreadPoolExecutor(max_workers=1) as tokenizing, \
                tqdm(desc="briefing", unit=" articles", total=count(articles), disable=not progress) as bar:
            pending = None
            while chunk := list(islice(records, chunk_size)):
                texts = [article.text for article in chunk if article.error is None]
                upcoming = (chunk, tokenizing.submit(encode_articles, self.tokenizer, texts, self.config)
                            if texts else None)
                if pending is not None:
                    yield from self._briefs(*pending, settings, all_scores, bar)
                pending = upcoming
            if pending is not None:
                yield from self._briefs(*pending, settings, all_scores, bar)

    def summarize_and_score(self, texts: list[str], progress: bool = False,
                            **generation: Any) -> tuple[list[str], np.ndarray]:
        """Summaries and a (articles x labels) probability matrix, in input order.

        `progress` shows a bar over the articles (evaluation runs, notebooks)."""
        summaries, states, _ = self._read(texts, generation_settings(self.config.generation, generation), progress)
        return summaries, self._probs(states)

    def topic_scores(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The (articles x labels) probability matrix alone: the encoder only, no generation."""
        return self._probs(self.article_states(texts, progress))

    def article_states(self, texts: list[str], progress: bool = False) -> torch.Tensor:
        """(articles x hidden) float32, on the model's device: what the topic head reads per article."""
        return self._read(texts, None, progress)[1]

    def _read(self, texts: list[str], settings: GenerationConfig | None,
              progress: bool) -> tuple[list[str], torch.Tensor, set[int]]:
        windows = encode_articles(self.tokenizer, texts, self.config)
        with tqdm(total=len(texts), desc="briefing" if settings else "reading", unit=" articles",
                  disable=not progress) as bar:
            return self._run(windows, len(texts), settings, bar)

    def _briefs(self, chunk: list[Article], windows: Future | None, settings: GenerationConfig,
                all_scores: bool, bar: tqdm) -> Iterator[Brief]:
        """The chunk's briefs in order; `windows` encodes its articles without an error (None: it has none)."""
        briefs: Iterator[Brief] = iter(())
        if windows is not None:
            encoded = windows.result()
            articles = [article for article in chunk if article.error is None]
            summaries, states, fallbacks = self._run(encoded, len(articles), settings, bar)
            briefs = (self._brief(article.id, summary, p, encoded.truncated[i], all_scores, i in fallbacks)
                      for i, (article, summary, p) in enumerate(zip(articles, summaries, self._probs(states))))
        for article in chunk:
            if article.error is not None:
                bar.update()
                yield Brief(article.id, "", [], error=article.error)
            else:
                yield next(briefs)

    def _run(self, windows: Windows, articles: int, settings: GenerationConfig | None,
             bar: tqdm | None = None) -> tuple[list[str], torch.Tensor, set[int]]:
        """Model work for encoded articles: a summary from each article's first window (none without
        `settings`), each article's state for the topic head, the mean of its windows' pooled
        states, so that in chunk mode the topics come from all of the article that was read, and the
        articles whose summary the fact guard could not finish."""
        summaries = [""] * articles
        fallbacks: set[int] = set()
        sums = torch.zeros(articles, self.model.hidden_size, device=self.device)
        first_window = {}
        for index, article in enumerate(windows.article):
            first_window.setdefault(article, index)
        leads = set(first_window.values())
        summarized = leads if settings is not None else set()
        inference = self.config.inference
        batches = token_budget_batches([len(ids) for ids in windows.input_ids], inference.max_batch_tokens,
                                       inference.batch_size)
        was_training = self.model.training
        self.model.eval()
        for batch in batches:
            first = [w for w in batch if w in summarized]
            rest = [w for w in batch if w not in summarized]
            if first:
                pooled = self._summarize(windows, first, settings, summaries, fallbacks)
                _add_by_article(sums, [windows.article[w] for w in first], pooled)
            if rest:
                _add_by_article(sums, [windows.article[w] for w in rest],
                                self.model.pooled_states(*self._pad(windows, rest)))
            if bar is not None:
                bar.update(sum(w in leads for w in batch))
        self.model.train(was_training)
        counts = torch.bincount(torch.tensor(windows.article, dtype=torch.long), minlength=articles)
        return summaries, sums / counts.clamp(min=1).unsqueeze(1).to(sums), fallbacks

    def _summarize(self, windows: Windows, rows: list[int], settings: GenerationConfig, summaries: list[str],
                   fallbacks: set[int]) -> torch.Tensor:
        """Summaries of the windows `rows` into `summaries` (by article), guarded when the settings say so;
        returns their pooled states. A summary the guard blocked, or left empty, is decoded again
        without it, and its article goes into `fallbacks`."""
        input_ids, attention_mask = self._pad(windows, rows)
        kwargs = settings.generate_kwargs()
        spellings = [ArticleSpelling(windows.texts[windows.article[w]], windows.input_ids[w], windows.offsets[w])
                     for w in rows] if self.wordpiece else None
        guard = None
        if settings.fact_guard:
            eos = self.model.seq2seq.generation_config.eos_token_id
            articles = [ArticleUnits(windows.input_ids[w], self._vocabulary, spellings[i].capitalised(),
                                     spellings[i].acronyms()) if spellings else
                        ArticleUnits(windows.input_ids[w], self._vocabulary) for i, w in enumerate(rows)]
            guard = FactGuard(articles, self._vocabulary, eos[0] if isinstance(eos, list) else eos,
                              settings.max_new_tokens, keep=1 if settings.num_beams == 1 else 2 * settings.num_beams)
        sequences, pooled = self.model.brief(input_ids, attention_mask, guard=guard, **kwargs)
        texts = self._decode(sequences, spellings)
        if guard is not None:
            redo = [i for i, text in enumerate(texts) if i in guard.blocked or not text.strip()]
            if redo:
                unguarded, _ = self.model.brief(input_ids[redo], attention_mask[redo], **kwargs)
                redone = self._decode(unguarded, [spellings[i] for i in redo] if spellings else None)
                for i, text in zip(redo, redone):
                    texts[i] = text
                    fallbacks.add(windows.article[rows[i]])
        for w, text in zip(rows, texts):
            summaries[windows.article[w]] = text
        return pooled

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        return Vocabulary.of(self.tokenizer)

    def _probs(self, states: torch.Tensor) -> np.ndarray:
        return self.model.topic_probs(states).cpu().numpy()

    def _decode(self, sequences: torch.Tensor, spellings: list[ArticleSpelling] | None) -> list[str]:
        """Summary texts; WordPiece summaries in their articles' spelling (one `ArticleSpelling` per row)."""
        if spellings is None:
            return [text.strip() for text in self.tokenizer.batch_decode(sequences, skip_special_tokens=True)]
        return [spelling.spell(ids, self.tokenizer) for spelling, ids in zip(spellings, sequences.tolist())]

    def _pad(self, windows: Windows, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        padded = self.tokenizer.pad({"input_ids": [windows.input_ids[w] for w in rows]}, return_tensors="pt")
        return padded["input_ids"].to(self.device), padded["attention_mask"].to(self.device)

    def _brief(self, id_: str, summary: str, probs: np.ndarray, truncated: bool, all_scores: bool,
               guard_fallback: bool) -> Brief:
        chosen = np.flatnonzero(probs >= self.thresholds)
        chosen = chosen[np.argsort(-probs[chosen])]
        topics = [(self.labels.names[i], round(float(probs[i]), 4)) for i in chosen]
        scores = {n: float(p) for n, p in zip(self.labels.names, probs)} if all_scores else None
        return Brief(id_, summary, topics, truncated, scores, guard_fallback)


def _add_by_article(sums: torch.Tensor, articles: list[int], pooled: torch.Tensor) -> None:
    sums.index_add_(0, torch.tensor(articles, device=sums.device), pooled.float())
