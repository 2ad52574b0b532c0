"""The voice of the customer (08_nps_and_advocacy): NPS, CES and CSAT, comments, lists to act on.

* :mod:`cjkit.voice.nps` -- categories, counts, the NPS with analytic and bootstrap intervals,
  weights, two or more groups, trends, the seed 000 threshold;
* :mod:`cjkit.voice.segments` -- segments, last touchpoint, customer value, excluded answers;
* :mod:`cjkit.voice.scales` -- CES (1-7) and CSAT (1-5): means and top-2-box;
* :mod:`cjkit.voice.comments` -- the frequent terms of the comments per category;
* :mod:`cjkit.voice.lists` -- detractors to follow up, promoters to invite.

Every public name is available as ``cjkit.voice.<name>`` (``cjkit.voice.nps`` is the
function; the module is ``cjkit.voice.nps`` in ``sys.modules`` only).
"""
from __future__ import annotations

from . import comments as _comments, lists as _lists, nps as _nps, scales as _scales, segments as _segments
from .comments import *  # noqa: F403
from .lists import *  # noqa: F403
from .nps import *  # noqa: F403
from .scales import *  # noqa: F403
from .segments import *  # noqa: F403

__all__ = [*_nps.__all__, *_segments.__all__, *_scales.__all__, *_comments.__all__, *_lists.__all__]
