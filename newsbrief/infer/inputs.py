"""What `NewsBrief.predict` accepts, made into one stream of articles, and its generation keywords checked.

Users hold texts, records, pandas DataFrames, `datasets` Datasets: each becomes records with an id and a
text. A bad item (None, not a text or a record, no text, a text that is not a string, empty or
invisible-only) follows the batch job's rule (readers.checked_row, article_text.is_blank): it is not
briefed, and its brief carries an error naming the item, as the job writes an error record naming its
line. So one bad item never costs the others their briefs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

from newsbrief.config import GenerationSettings
from newsbrief.config_parsing import from_dict
from newsbrief.infer.readers import checked_row


@dataclass
class Article:
    id: str
    text: str
    error: str | None = None
    """Why this item cannot be briefed ("item 3: 'text' is empty"); None for an article."""


def articles_of(articles: Any, text_column: str = "text", id_column: str = "id") -> Iterator[Article]:
    """The articles of a text, a record, a DataFrame, a Dataset or IterableDataset, or any iterable of
    texts and records, in order; records without an id get their position ("0", "1", ...)."""
    if isinstance(articles, (str, dict)):
        articles = [articles]  # one article, never its characters or keys
    else:
        _check_columns(articles, text_column)
        if _is_dataframe(articles):
            articles = (record for record in articles.to_dict("records"))
    for index, item in enumerate(articles):
        yield _article(index, item, text_column, id_column)


def count(articles: Any) -> int | None:
    """How many articles `articles_of` gives, when that is known without reading them (for a progress bar)."""
    if isinstance(articles, (str, dict)):
        return 1
    try:
        return len(articles)
    except TypeError:
        return None


def generation_settings(base: GenerationSettings, overrides: dict[str, Any]) -> GenerationSettings:
    """`base` with a call's keyword overrides: an unknown key, a wrong type or an impossible value is a
    one-line ValueError (ConfigError) that names the setting."""
    if not overrides:
        return base
    settings = from_dict(GenerationSettings, {**dataclasses.asdict(base), **overrides}, "generation")
    settings.validate()
    return settings


def _article(index: int, item: Any, text_column: str, id_column: str) -> Article:
    where = f"item {index}"
    if isinstance(item, str):
        item = {text_column: item}
    if not isinstance(item, dict):
        return Article(str(index), "", f"{where}: not a text or a record (a dict), got {type(item).__name__}")
    row = checked_row(where, item.get(id_column), item.get(text_column), id_column, text_column)
    article_id = row.id if row.id is not None else str(index)
    if row.problem is not None:
        return Article(article_id, "", f"{where}: {row.problem}")
    return Article(article_id, row.text)


def _is_dataframe(articles: Any) -> bool:
    return hasattr(articles, "to_dict") and hasattr(articles, "columns")


def _check_columns(articles: Any, text_column: str) -> None:
    """A table without the text column is the caller's mistake, not each row's: one error, naming it."""
    columns = list(articles.columns) if _is_dataframe(articles) else getattr(articles, "column_names", None)
    if columns is not None and text_column not in columns:
        raise ValueError(f"no column {text_column!r} (text_column=); columns are {columns}")
