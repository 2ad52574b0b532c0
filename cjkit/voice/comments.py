"""What customers write: the most frequent terms of the comments, per NPS category.

Simple normalisation, no NLP library: lower case, accents removed (``é`` -> ``e``), every
character that is not a letter becomes a space, words shorter than three letters and
common English and Spanish function words (:data:`STOPWORDS`) are dropped. A term is
counted once per comment, so ``comments`` is how many comments mention it and ``share``
that number over the comments of the group. Terms next to the scores tell *why*:
detractors' "support", "late", "damaged" point at the pain points to fix first.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

import pandas as pd

from .nps import PASSIVE_MIN, PROMOTER_MIN, nps_category

__all__ = ["STOPWORDS", "normalise", "comment_terms"]

#: words too common to say anything (English and Spanish function words, and "very"-like ones)
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could did do does doing
down during each even ever every few for from get got had has have having he her here hers him his how i if in
into is it its itself just like made make many me more most much my never no nor not now of off on once only or
other our out over own same she should so some still such than that the their them then there these they this
those through to too under until up us very was way we were what when where which while who why will with would
you your yours one two really quite bit lot
al algo como con de del el ella en es esta este la las lo los mas me mi muy no para pero por que se sin su sus
un una uno unos y ya
""".split())
_NON_LETTER = re.compile(r"[^a-z]+")


def normalise(text: object) -> list[str]:
    """The terms of one comment after the normalisation (empty for a missing comment).

    Examples
    --------
    >>> normalise("The guitar arrived in 3 days; PERFECTLY set up!")
    ['guitar', 'arrived', 'days', 'perfectly', 'set']
    >>> normalise("Envío rápido, muy buena atención"), normalise(None)
    (['envio', 'rapido', 'buena', 'atencion'], [])
    """
    if not isinstance(text, str):
        return []
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    return [w for w in _NON_LETTER.sub(" ", plain).split() if len(w) >= 3 and w not in STOPWORDS]


def _document_counts(texts: Iterable[object]) -> tuple[Counter, int]:
    counts: Counter = Counter()
    n = 0
    for text in texts:
        terms = set(normalise(text))
        if terms:
            n += 1
            counts.update(terms)
    return counts, n


def comment_terms(surveys: pd.DataFrame, *, by: str | None = "category", top: int = 5, column: str = "comment",
                  promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN) -> pd.DataFrame:
    """The ``top`` terms of the comments in each group, most mentioned first (ties: alphabetical).

    ``by="category"`` groups answers by their NPS category (from ``nps`` and the thresholds);
    any other column of ``surveys`` works too, ``None`` pools every comment.

    Returns
    -------
    DataFrame
        ``by`` (when given), ``term``, ``comments`` (comments of the group mentioning the
        term), ``share`` (of the group's comments with at least one term) and
        ``group_comments``.

    Examples
    --------
    >>> s = pd.DataFrame({"nps": [10, 9, 2, 3], "comment": ["Fast delivery!", "fast, friendly", "Late delivery",
    ...                                                      "support never answered; late"]})
    >>> comment_terms(s, top=2)[["category", "term", "comments"]].values.tolist()
    [['detractor', 'late', 2], ['detractor', 'answered', 1], ['promoter', 'fast', 2], ['promoter', 'delivery', 1]]
    """
    if column not in surveys.columns:
        raise KeyError(f"surveys table has no column {column!r}: there are no comments to read")
    frame = pd.DataFrame({"text": surveys[column].to_numpy()})
    if by == "category":
        frame[by] = nps_category(surveys["nps"], promoter_min=promoter_min, passive_min=passive_min).to_numpy()
    elif by is not None:
        frame[by] = surveys[by].to_numpy()
    rows = []
    groups = [(None, frame)] if by is None else [(k, g) for k, g in frame.groupby(by, sort=True, observed=True)]
    for key, part in groups:
        counts, n = _document_counts(part["text"])
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        rows += [{**({by: key} if by else {}), "term": t, "comments": c, "share": c / n, "group_comments": n}
                 for t, c in ranked]
    cols = ([by] if by else []) + ["term", "comments", "share", "group_comments"]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs = {"units": {"share": "share"},
                 "caption": f"Most frequent terms of the comments{' by ' + by if by else ''} "
                            "(each comment counts a term once)"}
    return out
