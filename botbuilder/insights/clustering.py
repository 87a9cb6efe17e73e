"""Group questions by meaning: the matcher's two views, agglomerative clustering.

Each question is seen the way the matcher sees it (`matching.features`): a
sentence embedding from the bot's own encoder and character n-gram TF-IDF,
both taken of the question without its function words ("ik", "kan", "de",
"waar"…), each block L2-normalised, then joined and normalised again. Groups
are formed by agglomerative clustering, cosine distance, average linkage,
cut at `DISTANCE_THRESHOLD`.

Measured on our test topics (tests/test_gaps.py: four unknown topics of ten
informal Dutch questions each, plus loose ones; bundled all-MiniLM-L6-v2):

    view                         method                          purity  coverage
    embedding alone              agglomerative, threshold 0.46    0.76    0.65
    embedding + n-grams          agglomerative, threshold 0.68    0.83    0.83
    the same without stop words  agglomerative, threshold 0.70    1.00    0.73
    embedding + n-grams          HDBSCAN, min_cluster_size 3      1.00    0.42
    embedding alone              HDBSCAN, min_cluster_size 3      0.48    0.52

(purity: share of grouped questions in their group's majority topic;
coverage: share of a topic's questions in its largest group). HDBSCAN leaves
most of a small inbox as noise: it needs density that a few dozen questions
do not have. Agglomerative with a fixed cut keeps one meaning of "close"
whatever the inbox's size, and a wrong phrasing in a suggestion costs a
manager more than a question left loose, so the cut favours purity.

Scale (`python -m benchmarks`, its gap finder part; docs/gaps.md): up to
`EXACT_UP_TO` questions the full distance matrix (float32) goes to SciPy's
average linkage; above it k-means splits the questions into parts first.
Average linkage along a nearest-neighbour graph (scikit-learn's
`connectivity`) was measured too and dropped: it averages only over the
graph's edges, so groups chain into a few giant ones (purity 0.23 on the
benchmark questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from botbuilder.content.languages import normalise
from botbuilder.content.lazy import MiniBatchKMeans, fcluster, linkage, squareform
from botbuilder.insights.naming import content_words
from botbuilder.matching.ngrams import NgramTfidf, char_wb_ngrams

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix  # imported where a matrix is built: not at start-up

__all__ = [
    "DISTANCE_THRESHOLD",
    "centre",
    "EXACT_UP_TO",
    "cluster",
    "exact_groups",
    "small_average_groups",
    "partitioned_groups",
    "threshold_for",
    "ngram_tfidf",
    "topic_text",
    "unit_rows",
    "views",
]

DISTANCE_THRESHOLD = 0.70  # all-MiniLM-L6-v2's
# The cut depends on the encoder (how spread its cosines are). multilingual-e5-small
# puts every question in a narrow cone (cosines 0.80 between topics, 0.87 within),
# so its vectors are centred first, on the mean the matcher centres on (`centre`):
# the mean of the bot's examples, which does not depend on the inbox. Measured on
# the test topics (tests/test_gaps.py: four Dutch topics of ten, four English of
# four to eight), purity / coverage, Dutch | English:
#     not centred, cut 0.48    0.97 / 0.68 | 1.00 / 0.38  (the four English GPX loose)
#     not centred, cut 0.52    0.94 / 0.70 | 1.00 / 0.94
#     centred,     cut 0.70    1.00 / 0.60 | 1.00 / 0.72
#     centred,     cut 0.72    1.00 / 0.78 | 1.00 / 0.78
#     centred,     cut 0.74    1.00 / 0.80 | 1.00 / 0.97
#     centred,     cut 0.78    0.92 / 0.82 | 1.00 / 0.97
# 0.74 groups more, but a new question joining a large inbox's groups one at a
# time (`grouping.attach`) then joined a four-question "club" part of the lost
# property topic at 0.736 (test_a_large_inbox_keeps_its_groups_...): 0.72 keeps
# that margin. Cuts for vectors not centred (an encoder the matcher does not
# centre, or a bot without examples) and for centred ones:
_CUTS = {"e5": 0.48}
_CENTRED_CUTS = {"e5": 0.72}


def threshold_for(model: str, centred: bool = False) -> float:
    """The distance cut for vectors of this encoder (its `identity`), centred or not."""
    low = model.lower()
    cuts = _CENTRED_CUTS if centred else _CUTS
    return next((cut for family, cut in cuts.items() if family in low), DISTANCE_THRESHOLD)


def centre(vectors: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """`vectors` minus `mean`, each row renormalised (float32); as they are without a mean."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if mean is None:
        return vectors
    moved = vectors - np.asarray(mean, dtype=np.float32)
    return moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)  # type: ignore[no-any-return]


EXACT_UP_TO = 5000
_BLOCK = 1000
_SMALL = 300  # up to this many questions, `small_average_groups`


def topic_text(text: str) -> str:
    """What a question is about: its normalised words without function words.

    Falls back to the normalised text when nothing is left ("hoe?")."""
    words = content_words(normalise(text))
    return " ".join(words) or normalise(text)


def ngram_tfidf() -> NgramTfidf:
    """Character n-gram TF-IDF as scikit-learn's `TfidfVectorizer(analyzer="char_wb",
    ngram_range=(2, 4), sublinear_tf=True)` (lower-cased; rows L2-normalised,
    float32), the matcher's own: the inbox never imports scikit-learn for it
    (a second of CPU on its first look)."""
    return NgramTfidf(lambda text: char_wb_ngrams(text.lower()))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row L2-normalised (float32); a zero row stays zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)  # type: ignore[no-any-return]


def views(embeddings: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, csr_matrix]:
    """The two blocks, each row L2-normalised: embeddings, and n-grams of the topic words."""
    ngrams = ngram_tfidf().fit_transform([topic_text(t) for t in texts])
    return unit_rows(embeddings), ngrams.tocsr()


def cluster(
    embeddings: np.ndarray, texts: Sequence[str], threshold: float = DISTANCE_THRESHOLD
) -> np.ndarray:
    """A group label per question (0, 1, …); questions alone get a label of their own."""
    n = len(texts)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    dense, ngrams = views(embeddings, texts)
    if n <= EXACT_UP_TO:
        return exact_groups(dense, ngrams, threshold)
    return partitioned_groups(dense, ngrams, threshold)


def exact_groups(
    dense: np.ndarray, ngrams: csr_matrix, threshold: float = DISTANCE_THRESHOLD
) -> np.ndarray:
    """Average linkage over the full cosine distance matrix, cut at the threshold.

    Both blocks are unit rows, so the joined row's cosine is the mean of
    theirs. The matrix is float32 and filled in row blocks, so the sparse
    n-gram product never exists whole; SciPy's linkage takes its upper
    triangle (as float64: 100 MB at 5,000 questions)."""
    n = len(dense)
    distance = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        block = dense[start:stop] @ dense.T
        block += (ngrams[start:stop] @ ngrams.T).toarray()
        distance[start:stop] = 1.0 - 0.5 * block
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    if n <= _SMALL:
        return small_average_groups(distance, threshold)
    condensed = squareform(distance, checks=False)
    del distance
    tree = linkage(condensed, method="average")
    return np.asarray(fcluster(tree, t=threshold, criterion="distance") - 1)


def small_average_groups(distance: np.ndarray, threshold: float) -> np.ndarray:
    """Average linkage cut at `threshold`, for a few hundred questions at most: merge the
    two closest groups while they are within it (average linkage never merges below
    an earlier merge, so this is SciPy's `linkage` and `fcluster(criterion="distance")`),
    without importing SciPy's clustering (which pulls in `scipy.spatial` and
    `scipy.special`: a quarter of a second of the inbox's first look, which groups
    a few dozen questions)."""
    d = distance.astype(np.float64)  # as SciPy's linkage takes it
    n = len(d)
    np.fill_diagonal(d, np.inf)
    sizes = np.ones(n)
    labels = np.arange(n)
    while n > 1:
        i, j = divmod(int(np.argmin(d)), n)
        if not d[i, j] <= threshold:
            break
        merged = (sizes[i] * d[i] + sizes[j] * d[j]) / (sizes[i] + sizes[j])
        d[i, :] = d[:, i] = merged
        d[j, :] = d[:, j] = d[i, i] = np.inf
        sizes[i] += sizes[j]
        labels[labels == j] = i
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)  # type: ignore[no-any-return]


def partitioned_groups(
    dense: np.ndarray, ngrams: csr_matrix, threshold: float = DISTANCE_THRESHOLD
) -> np.ndarray:
    """Above `EXACT_UP_TO`: k-means on the embeddings into parts of about
    `EXACT_UP_TO / 2` questions, then exact groups within each part.

    Two questions that belong together share nearly one embedding, so k-means
    rarely puts them in different parts; memory stays that of one part."""
    parts = int(np.ceil(2 * len(dense) / EXACT_UP_TO))
    assignment = MiniBatchKMeans(parts, random_state=0, n_init=3).fit_predict(dense)
    labels = np.empty(len(dense), dtype=np.int64)
    offset = 0
    for part in range(parts):
        rows = np.flatnonzero(assignment == part)
        if not len(rows):
            continue
        inner = (
            exact_groups(dense[rows], ngrams[rows], threshold)
            if len(rows) > 1
            else np.zeros(1, np.int64)
        )
        labels[rows] = inner + offset
        offset += int(inner.max()) + 1
    return labels
