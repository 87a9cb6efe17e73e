"""Inbox questions into groups: all at once, or new ones joining the groups there are.

`grouped` clusters a language's questions afresh (`clustering.cluster`). For a
large inbox that gained a few questions, `attach` keeps the groups: each new
question joins the group it is closest to on average, by the same distance
and cut average linkage uses, unless a recent loose question is nearer to it;
what joins nothing is grouped with the recent loose questions, so a new topic
still forms a group of its own. The
whole language is grouped afresh again once a tenth of it is new.

A group's id comes from its language and oldest question, so it stays the
same when questions join.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from botbuilder.insights.clustering import DISTANCE_THRESHOLD, cluster

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix  # imported where a matrix is built: not at start-up

__all__ = ["MIN_GROUP", "REGROUP_WHOLE_UP_TO", "attach", "group_id", "grouped"]

MIN_GROUP = 3
# Up to this many questions a language is grouped whole on each change (well under a second).
REGROUP_WHOLE_UP_TO = 2000
# Loose questions this recent are grouped again with the new ones: the start of a new topic.
RECENT_LOOSE = timedelta(days=30)
MAX_RECENT_LOOSE = 1000

Groups = dict[int, tuple[str, float]]  # message id -> (group id or "", typicality)


def group_id(language: str, first_message_id: int) -> str:
    return hashlib.sha256(f"{language}:{first_message_id}".encode()).hexdigest()[:16]


def grouped(
    rows: Sequence[Any], vectors: np.ndarray, language: str, cut: float = DISTANCE_THRESHOLD
) -> Groups:
    """Every row's group id ("" alone or in a pair) and typicality, grouped afresh."""
    groups: Groups = {}
    labels = cluster(vectors, [r.text for r in rows], cut)
    for label in np.unique(labels):
        members = [int(i) for i in np.flatnonzero(labels == label)]
        first = min(rows[i].message_id for i in members)
        gid = group_id(language, first) if len(members) >= MIN_GROUP else ""
        centre = _centre(vectors[members])
        for i in members:
            groups[rows[i].message_id] = (gid, float(vectors[i] @ centre))
    return groups


def attach(
    rows: Sequence[Any],
    vectors: np.ndarray,
    dense: np.ndarray,
    ngrams: csr_matrix,
    language: str,
    now: datetime,
    cut: float = DISTANCE_THRESHOLD,
) -> Groups:
    """The new rows (`group_id` None) joined to the groups there are, or grouped anew.

    A new row joins the group it is closest to on average, within the cut,
    unless a recent loose question is nearer to it than that group's average:
    then it goes with the loose questions, where a new topic starts (joining the
    nearest group then pulled a question of a new topic into an old one).
    `vectors`: the rows' stored vectors; `dense` and `ngrams` the clustering's two
    views of all of them (`clustering.views`, or kept between looks: `row_cache`)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r.group_id:
            members[r.group_id].append(i)
    fresh = [i for i, r in enumerate(rows) if r.group_id is None]
    recent = [
        i for i, r in enumerate(rows) if r.group_id == "" and now - r.asked_at <= RECENT_LOOSE
    ][-MAX_RECENT_LOOSE:]
    groups: Groups = {}
    left = fresh
    if members and fresh:
        names = list(members)
        old = np.array([i for name in names for i in members[name]])
        owner = np.repeat(np.arange(len(names)), [len(members[n]) for n in names])
        totals = np.zeros((len(fresh), len(names)), dtype=np.float64)
        np.add.at(totals.T, owner, _similarity(dense, ngrams, fresh, old).T)
        average = totals / np.bincount(owner, minlength=len(names))
        best = average.argmax(axis=1)
        nearest_loose = (
            _similarity(dense, ngrams, fresh, recent).max(axis=1)
            if recent
            else np.full(len(fresh), -np.inf)
        )
        left = []
        for row, i in enumerate(fresh):
            closest = average[row, best[row]]
            if 1.0 - closest <= cut and nearest_loose[row] <= closest:
                name = names[best[row]]
                centre = _centre(vectors[members[name]])
                groups[rows[i].message_id] = (name, float(vectors[i] @ centre))
            else:
                left.append(i)
    if left:
        again = [*recent, *left]
        groups.update(grouped([rows[i] for i in again], vectors[again], language, cut))
    return groups


def _similarity(dense: np.ndarray, ngrams: csr_matrix, these: Any, those: Any) -> np.ndarray:
    """The joined view's cosine (the mean of the two blocks') between two sets of rows."""
    grams = (ngrams[these] @ ngrams[those].T).toarray()
    return 0.5 * (dense[these] @ dense[those].T + grams)  # type: ignore[no-any-return]


def _centre(vectors: np.ndarray) -> np.ndarray:
    centre = vectors.mean(axis=0)
    return centre / max(float(np.linalg.norm(centre)), 1e-12)  # type: ignore[no-any-return]
