"""NewsBrief: a short summary and topics for every news article, from one fine-tuned transformer."""

from newsbrief.config import RunConfig, load_config
from newsbrief.infer.engine import Brief, NewsBrief

__all__ = ["Brief", "NewsBrief", "RunConfig", "load_config"]
