"""scikit-learn and SciPy's clustering, imported on first use instead of at start-up.

Importing scikit-learn costs more than a second of CPU (it pulls in most of
SciPy). A server needs it only for the editor's advice and topics and the
inbox's gap finder, never to answer a question, so the modules that use it
import these stand-ins: each imports the real thing when first called (the
import itself is thread-safe) and mypy sees the real signatures.
`tests/test_startup.py` checks that a server's start imports none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["MiniBatchKMeans", "TfidfVectorizer", "fcluster", "linkage", "normalize", "squareform"]

if TYPE_CHECKING:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize
else:

    def TfidfVectorizer(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the class it makes)
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(*args, **kwargs)

    def MiniBatchKMeans(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the class it makes)
        from sklearn.cluster import MiniBatchKMeans

        return MiniBatchKMeans(*args, **kwargs)

    def normalize(*args: Any, **kwargs: Any) -> Any:
        from sklearn.preprocessing import normalize

        return normalize(*args, **kwargs)

    def linkage(*args: Any, **kwargs: Any) -> Any:
        from scipy.cluster.hierarchy import linkage

        return linkage(*args, **kwargs)

    def fcluster(*args: Any, **kwargs: Any) -> Any:
        from scipy.cluster.hierarchy import fcluster

        return fcluster(*args, **kwargs)

    def squareform(*args: Any, **kwargs: Any) -> Any:
        from scipy.spatial.distance import squareform

        return squareform(*args, **kwargs)
