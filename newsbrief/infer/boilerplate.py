"""Page furniture that scraped articles carry, dropped line by line before the model reads them.

A scraped page often opens with "Loading..." or "Advertisement" and scatters "READ MORE" links, share
prompts and photo credits through the text. The model reads only the first tokens of an article, and
writes its headline from the lead, so such lines would take the lead's place. Only whole lines that
are nothing but furniture go: a sentence that merely mentions a photo stays.
"""

from __future__ import annotations

import re

FURNITURE = re.compile(
    r"""^\W*(?:
        loading(?:\.\.\.|…)?
      | advertisement | sponsored(?:\ content)?
      | (?:read|see)\ more\b.* | related:.* | more\ on\ this\ story.*
      | share\ this(?:\ article|\ story)? | share\ on\ \w+ | click\ here\b.*
      | sign\ up\b.* | subscribe\b.*
      | (?:photo|image|picture|video)(?:\ credit)?\s*:.* | (?:photo|image)\ credit\b.*
    )\W*$""", re.IGNORECASE | re.VERBOSE)


def strip_boilerplate(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not FURNITURE.match(line.strip()))
