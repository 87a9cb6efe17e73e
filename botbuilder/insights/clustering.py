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

Scale (`python -m benchmarks --gaps`, see docs/gaps.md): up to
`EXACT_UP_TO` questions the full distance matrix (float32) goes to SciPy's
average linkage; above it each question only links to its `NEIGHBOURS`
nearest (a k-nearest-neighbour connectivity graph), which bounds memory to
n × k instead of n².
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import kneighbors_graph
from sklearn.preprocessing import normalize

from botbuilder.content.languages import normalise
from botbuilder.insights.naming import content_words

__all__ = [
    "DISTANCE_THRESHOLD",
    "EXACT_UP_TO",
    "cluster",
    "topic_text",
]

DISTANCE_THRESHOLD = 0.70
EXACT_UP_TO = 4000
NEIGHBOURS = 30
_NGRAM_DIMENSIONS = 128


def topic_text(text: str) -> str:
    """What a question is about: its normalised words without function words.

    Falls back to the normalised text when nothing is left ("hoe?")."""
    words = content_words(normalise(text))
    return " ".join(words) or normalise(text)


def _views(embeddings: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, csr_matrix]:
    """The two blocks, each row L2-normalised: embeddings, and n-grams of the topic words."""
    ngrams = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32
    ).fit_transform([topic_text(t) for t in texts])
    return normalize(np.asarray(embeddings, dtype=np.float32)), normalize(ngrams).tocsr()


def cluster(embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """A group label per question (0, 1, …); questions alone get a label of their own."""
    n = len(texts)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    dense, ngrams = _views(embeddings, texts)
    if n <= EXACT_UP_TO:
        return _exact(dense, ngrams)
    return _by_neighbours(dense, ngrams)


def _exact(dense: np.ndarray, ngrams: csr_matrix) -> np.ndarray:
    """Average linkage over the full cosine distance matrix, cut at the threshold.

    Both blocks are unit rows, so the joined row's cosine is the mean of theirs."""
    similarity = dense @ dense.T
    similarity += (ngrams @ ngrams.T).toarray()
    similarity *= 0.5
    upper = np.triu_indices(len(dense), k=1)
    condensed = np.clip(1.0 - similarity[upper], 0.0, 2.0).astype(np.float64)
    del similarity, upper
    tree = linkage(condensed, method="average")
    return np.asarray(fcluster(tree, t=DISTANCE_THRESHOLD, criterion="distance") - 1)


def _by_neighbours(dense: np.ndarray, ngrams: csr_matrix) -> np.ndarray:
    """Average linkage along a nearest-neighbour graph: memory n × k, not n².

    The n-gram block is reduced to `_NGRAM_DIMENSIONS` (truncated SVD) so the
    joined rows are small and dense."""
    reduced = TruncatedSVD(_NGRAM_DIMENSIONS, random_state=0).fit_transform(ngrams)
    view = normalize(np.hstack([dense, normalize(reduced).astype(np.float32)]))
    graph = kneighbors_graph(view, NEIGHBOURS, metric="cosine", include_self=False)
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=DISTANCE_THRESHOLD,
        connectivity=graph,
    )
    return np.asarray(model.fit_predict(view))
