"""NewsBrief: load a model directory and brief articles in length-sorted, token-budget batches."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from newsbrief.config import GenerationSettings, InferenceConfig
from newsbrief.hub import push_directory, save_directory
from newsbrief.labels import LabelSpace
from newsbrief.infer.batching import token_budget_batches
from newsbrief.infer.encoding import SourceWindow, Windows, encode_articles
from newsbrief.infer.inputs import Article, articles_of, count, generation_settings
from newsbrief.infer.loading import model_source, serving_config
from newsbrief.infer.optimize import compile_model, quantize_int8, resolve_device, resolve_dtype
from newsbrief.infer.spelling import ArticleSpelling, is_wordpiece
from newsbrief.models.model_dir import load_model
from newsbrief.models.fact_guard import ArticleUnits, FactGuard, Vocabulary
from newsbrief.models.guard_marks import drop_trailing_opener
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


@dataclass
class Reading:
    """What one pass of the engine makes of some articles, in their order: every caller's one result."""

    summaries: list[str]
    """One per article; empty when the pass did not generate."""
    summary_tokens: np.ndarray
    """Each summary's length in the model's tokens (0 without generation)."""
    probs: np.ndarray
    """(articles x labels) topic probabilities."""
    states: torch.Tensor
    """(articles x hidden) float32 on the model's device: the mean pooled state of each article's windows."""
    truncated: np.ndarray
    """Per article: part of it fell outside the text the model read."""
    guard_fallback: np.ndarray
    """Per article: the fact guard blocked its summary, which is unguarded."""

    @classmethod
    def concatenate(cls, parts: list["Reading"]) -> "Reading":
        return cls([s for p in parts for s in p.summaries], np.concatenate([p.summary_tokens for p in parts]),
                   np.concatenate([p.probs for p in parts]), torch.cat([p.states for p in parts]),
                   np.concatenate([p.truncated for p in parts]), np.concatenate([p.guard_fallback for p in parts]))


STREAM_CHUNK = 1024
"""Articles sorted and batched together: larger chunks pad less, smaller ones hold less in memory."""

RETRY_BEAMS = 4
"""Beams of the guarded second try at a summary that greedy decoding under the fact guard could not finish."""


class NewsBrief:
    """The engine: a model with its tokenizer, labels and thresholds, and the settings it reads articles and
    writes summaries with. It holds no run config: the model directory (`source`) keeps that, for saving."""

    def __init__(self, model: NewsBriefModel, tokenizer, labels: LabelSpace, thresholds: list[float],
                 window: SourceWindow, inference: InferenceConfig, generation: GenerationSettings,
                 source: Path | None = None):
        self.source = source
        """The model directory this engine was loaded from: what save_pretrained and push_to_hub write."""
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.window = window
        self.inference = inference
        self.generation = generation
        """The summaries' settings; a call's keyword arguments override them for that call only."""
        self.wordpiece = is_wordpiece(tokenizer)  # decoding loses the article's case and spacing: restore them

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "auto",
                        dtype: str | torch.dtype = "auto", int8: bool = False, compile: bool = False, *,
                        revision: str | None = None, token: str | bool | None = None,
                        cache_dir: str | Path | None = None, trust_remote_code: bool = False,
                        inference: dict[str, Any] | None = None,
                        generation: dict[str, Any] | None = None, verbose: bool = False) -> "NewsBrief":
        """Load a model directory or a Hub repository ("org/name" at `revision`, through the Hugging Face
        cache), by default the embedded model; `dtype="auto"` is bf16 on GPUs (fp16 on those without it) and
        on CPUs with native bf16, fp32 on other CPUs and with `int8` (resolve_dtype); `int8` quantizes linear
        layers (CPU); `compile` runs torch.compile, for GPUs: on a CPU it briefed about 3x slower than eager,
        as batch shapes vary and it recompiles. Code that a downloaded model names runs only with
        `trust_remote_code=True`.
        `inference` and `generation` override the model's settings of those sections (e.g.
        {"long_articles": "chunk"}, {"num_beams": 4}) for every call of the engine built here. Libraries'
        loading bars and warnings are shown only when `verbose`."""
        target = resolve_device(device)
        directory = model_source(path, revision, token, cache_dir, trust_remote_code)
        with quiet_loading(verbose):
            loaded = load_model(directory, device=target, dtype=resolve_dtype(dtype, target, int8),
                                trust_remote_code=trust_remote_code)
        model = quantize_int8(loaded.model) if int8 else loaded.model
        if compile:
            compile_model(model)
        config = serving_config(loaded.config, inference or {}, generation or {})
        return cls(model, loaded.tokenizer, loaded.labels, loaded.thresholds, SourceWindow.of(config.data),
                   config.inference, config.generation, source=directory)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write the model directory this engine was loaded from to `directory`, with a Hub model card."""
        return save_directory(self._source(), directory)

    def push_to_hub(self, repo_id: str, *, revision: str | None = None, private: bool | None = None,
                    token: str | bool | None = None, commit_message: str = "Upload NewsBrief model"):
        """Upload the model directory to the Hub repository `repo_id` (created if needed) in one commit."""
        return push_directory(self._source(), repo_id, revision=revision, private=private,
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
        """Briefs in input order, `chunk_size` articles at a time, for streams of any length; a bad item
        gets its error Brief in its place."""
        settings = generation_settings(self.generation, generation)
        with tqdm(desc="briefing", unit=" articles", total=count(articles), disable=not progress) as bar:
            for chunk, reading in self._read_chunks(articles_of(articles, text_column, id_column), chunk_size,
                                                    True, settings, bar):
                readings = iter(range(len(reading.summaries)))
                for article in chunk:
                    if article.error is not None:
                        bar.update()
                        yield Brief(article.id, "", [], error=article.error)
                    else:
                        yield self._make_brief(article.id, reading, next(readings), all_scores)

    def brief_encoded(self, ids: list[str], windows: Windows) -> list[Brief]:
        """Briefs of articles that `loading.load_encoder`'s function encoded elsewhere (the Ray job's CPU stage), one
        per id, in order: the model's part of `predict_stream` for one chunk, the same batches and Briefs."""
        if len(ids) != len(windows.texts):  # a brief under another article's id would be worse than no brief
            raise ValueError(f"brief_encoded: {len(ids)} ids for {len(windows.texts)} encoded articles")
        if not ids:
            return []
        with tqdm(disable=True) as bar:
            reading = self._read_windows(windows, True, self.generation, bar)
        return [self._make_brief(id_, reading, i, all_scores=False) for i, id_ in enumerate(ids)]

    def read(self, texts: list[str], *, generate: bool = True, progress: bool = False,
             **generation: Any) -> Reading:
        """The one way through the engine, for a list of texts: summaries (when `generate`), topic
        probabilities, pooled states, truncation and lengths, in input order. Keyword arguments override
        the generation settings for this call; `progress` shows a bar (evaluation runs, notebooks)."""
        settings = generation_settings(self.generation, generation)
        with tqdm(total=len(texts), desc="briefing" if generate else "reading", unit=" articles",
                  disable=not progress) as bar:
            articles = (Article(str(i), text) for i, text in enumerate(texts))
            parts = [reading for _, reading in self._read_chunks(articles, STREAM_CHUNK, generate, settings, bar)]
        return Reading.concatenate(parts) if parts else self._empty_reading()

    def summarize_and_score(self, texts: list[str], progress: bool = False,
                            **generation: Any) -> tuple[list[str], np.ndarray]:
        """`read`'s summaries and (articles x labels) probability matrix."""
        reading = self.read(texts, progress=progress, **generation)
        return reading.summaries, reading.probs

    def topic_scores(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """`read`'s probability matrix, without generation: the encoder only."""
        return self.read(texts, generate=False, progress=progress).probs

    def article_states(self, texts: list[str], progress: bool = False) -> torch.Tensor:
        """`read`'s (articles x hidden) states, without generation: what the topic head reads per article."""
        return self.read(texts, generate=False, progress=progress).states

    def _read_chunks(self, articles: Iterator[Article], chunk_size: int, generate: bool,
                     settings: GenerationSettings, bar: tqdm) -> Iterator[tuple[list[Article], Reading]]:
        """Each chunk of articles with the Reading of those without an error. The next chunk is tokenized
        in a background thread while the model works on this one (tokenizers release the GIL), so the
        accelerator does not wait for the CPU."""
        with ThreadPoolExecutor(max_workers=1) as tokenizing:
            pending = None
            while chunk := list(islice(articles, chunk_size)):
                texts = [article.text for article in chunk if article.error is None]
                encoding = tokenizing.submit(encode_articles, self.tokenizer, texts, self.window,
                                             self.inference) if texts else None
                if pending is not None:
                    yield pending[0], self._read_encoded(pending[1], generate, settings, bar)
                pending = (chunk, encoding)
            if pending is not None:
                yield pending[0], self._read_encoded(pending[1], generate, settings, bar)

    def _read_encoded(self, windows: Future | None, generate: bool, settings: GenerationSettings,
                      bar: tqdm) -> Reading:
        """The Reading of a chunk's encoded articles (None: every article of the chunk had an error)."""
        return self._empty_reading() if windows is None else self._read_windows(windows.result(), generate,
                                                                                 settings, bar)

    def _read_windows(self, windows: Windows, generate: bool, settings: GenerationSettings,
                      bar: tqdm) -> Reading:
        """Model work for encoded articles: a summary from each article's first window (when `generate`),
        and each article's state for the topic head, the mean of its windows' pooled states, so that in
        chunk mode the topics come from all of the article that was read."""
        articles = len(windows.texts)
        summaries = [""] * articles
        summary_tokens = [0] * articles
        fallbacks: set[int] = set()
        sums = torch.zeros(articles, self.model.hidden_size, device=self.device)
        first_window = {}
        for index, article in enumerate(windows.article):
            first_window.setdefault(article, index)
        leads = set(first_window.values())
        summarized = leads if generate else set()
        inference = self.inference
        batches = token_budget_batches([len(ids) for ids in windows.input_ids], inference.max_batch_tokens,
                                       inference.batch_size)
        was_training = self.model.training
        self.model.eval()
        for batch in batches:
            first = [w for w in batch if w in summarized]
            rest = [w for w in batch if w not in summarized]
            if first:
                pooled = self._summarize(windows, first, settings, summaries, summary_tokens, fallbacks)
                _add_by_article(sums, [windows.article[w] for w in first], pooled)
            if rest:
                _add_by_article(sums, [windows.article[w] for w in rest],
                                self.model.pooled_states(*self._pad(windows, rest)))
            bar.update(sum(w in leads for w in batch))
        self.model.train(was_training)
        counts = torch.bincount(torch.tensor(windows.article, dtype=torch.long), minlength=articles)
        states = sums / counts.clamp(min=1).unsqueeze(1).to(sums)
        return Reading(summaries, np.array(summary_tokens, dtype=np.int64), self._probs(states), states,
                       np.array(windows.truncated, dtype=bool),
                       np.array([a in fallbacks for a in range(articles)], dtype=bool))

    def _empty_reading(self) -> Reading:
        states = torch.zeros(0, self.model.hidden_size, device=self.device)
        return Reading([], np.zeros(0, dtype=np.int64), self._probs(states), states, np.zeros(0, dtype=bool),
                       np.zeros(0, dtype=bool))

    def _summarize(self, windows: Windows, rows: list[int], settings: GenerationSettings, summaries: list[str],
                   summary_tokens: list[int], fallbacks: set[int]) -> torch.Tensor:
        """Summaries of the windows `rows` into `summaries` (by article), guarded when the settings say so,
        and their lengths in tokens into `summary_tokens`; returns their pooled states. A summary the guard
        blocked, or left empty, is decoded again with guarded beam search, and where that is blocked too,
        without the guard: its article goes into `fallbacks`."""
        input_ids, attention_mask = self._pad(windows, rows)
        spellings = [ArticleSpelling(windows.texts[windows.article[w]], windows.input_ids[w], windows.offsets[w])
                     for w in rows] if self.wordpiece else None
        articles = None
        if settings.fact_guard:
            articles = [ArticleUnits.read(windows.input_ids[w], self._vocabulary, spellings[i] if spellings else None)
                        for i, w in enumerate(rows)]
        texts, pooled, blocked = self._generate(input_ids, attention_mask, settings, articles, spellings)
        if blocked:
            # Beam search can back out of a dead end that greedy decoding walked into; what it cannot
            # finish either is written without the guard.
            retry = replace(settings, num_beams=max(RETRY_BEAMS, settings.num_beams))
            redone, _, still = self._generate(input_ids[blocked], attention_mask[blocked], retry,
                                              _pick(articles, blocked), _pick(spellings, blocked))
            texts_of = dict(zip(blocked, redone))
            unguarded_rows = [blocked[j] for j in still]
            if unguarded_rows:
                unguarded, _, _ = self._generate(input_ids[unguarded_rows], attention_mask[unguarded_rows], settings,
                                                 None, _pick(spellings, unguarded_rows))
                texts_of.update(zip(unguarded_rows, unguarded))
                fallbacks.update(windows.article[rows[i]] for i in unguarded_rows)
            for i, text in texts_of.items():
                texts[i] = text
        for w, text in zip(rows, texts):
            summaries[windows.article[w]] = text
        # Lengths of the texts kept, in the model's tokens: a summary as long as max_new_tokens was cut by that cap.
        for w, ids in zip(rows, self.tokenizer(texts, add_special_tokens=False)["input_ids"]):
            summary_tokens[windows.article[w]] = len(ids)
        return pooled

    def _generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, settings: GenerationSettings,
                  articles: list[ArticleUnits] | None, spellings: list[ArticleSpelling] | None
                  ) -> tuple[list[str], torch.Tensor, list[int]]:
        """Summary texts, pooled states, and the rows the guard blocked or left empty (guarded when
        `articles` are given)."""
        guard = None
        if articles is not None and input_ids.shape[0]:
            eos = self.model.seq2seq.generation_config.eos_token_id
            guard = FactGuard(articles, self._vocabulary, eos[0] if isinstance(eos, list) else eos,
                              settings.max_new_tokens, keep=1 if settings.num_beams == 1 else 2 * settings.num_beams)
        sequences, pooled = self.model.brief(input_ids, attention_mask, guard=guard, **settings.generate_kwargs())
        texts = self._decode(sequences, spellings)
        if guard is None:
            return texts, pooled, []
        texts = [drop_trailing_opener(text) for text in texts]
        return texts, pooled, [i for i, (ids, text) in enumerate(zip(sequences.tolist(), texts))
                               if guard.ended_blocked(ids) or not text.strip()]

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

    def _make_brief(self, id_: str, reading: Reading, i: int, all_scores: bool) -> Brief:
        """Article `i` of a Reading as a Brief: its topics those at or above their thresholds."""
        probs = reading.probs[i]
        chosen = np.flatnonzero(probs >= self.thresholds)
        chosen = chosen[np.argsort(-probs[chosen])]
        topics = [(self.labels.names[i], round(float(probs[i]), 4)) for i in chosen]
        scores = {n: float(p) for n, p in zip(self.labels.names, probs)} if all_scores else None
        return Brief(id_, reading.summaries[i], topics, bool(reading.truncated[i]), scores,
                     bool(reading.guard_fallback[i]))


def load_briefer(model: str | Path | None, device: str = "auto", dtype: str = "auto", int8: bool = False,
                 compile: bool = False, trust_remote_code: bool = False, **inference: Any) -> NewsBrief:
    """The model as the batch jobs and evaluation run it; `inference` overrides the model's inference
    settings (long_articles, batch_size, max_batch_tokens), and None leaves one as the model has it."""
    chosen = {key: value for key, value in inference.items() if value is not None}
    return NewsBrief.from_pretrained(model, device=device, dtype=dtype, int8=int8, compile=compile,
                                     trust_remote_code=trust_remote_code, inference=chosen)


def _add_by_article(sums: torch.Tensor, articles: list[int], pooled: torch.Tensor) -> None:
    sums.index_add_(0, torch.tensor(articles, device=sums.device), pooled.float())


def _pick(items: list | None, rows: list[int]) -> list | None:
    return None if items is None else [items[i] for i in rows]
