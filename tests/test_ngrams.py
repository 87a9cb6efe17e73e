"""The matcher's own n-gram TF-IDF gives what scikit-learn's gives (matching/ngrams.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from botbuilder.content.languages import normalise
from botbuilder.matching.ngrams import NgramTfidf, char_wb_ngrams

TEXTS = [
    "Hoeveel kost het lidmaatschap?",
    "mn  wachtwoord   vergeten",
    "a I ok",
    "Wat is de contributie voor jeugdleden in 2025",
    "",
    "   ",
    "fiets-route downloaden als GPX",
    "café über naïve",
]
QUESTIONS = ["wachtwoord kwijt", "zzz qqq", "", "hoeveel kost de jeugd contributie"]


def test_char_wb_ngrams_are_scikit_learns_char_wb_analyzer() -> None:
    analyse = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), lowercase=False
    ).build_analyzer()
    for text in [*TEXTS, *QUESTIONS, "x", "ab", "abc", "a\tb\n\nc"]:
        assert char_wb_ngrams(text) == analyse(text)


def test_fit_and_transform_give_scikit_learns_vocabulary_weights_and_vectors() -> None:
    def analyse(text: str) -> list[str]:
        return char_wb_ngrams(normalise(text))

    ours = NgramTfidf(analyse)
    theirs = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, dtype=np.float32)
    fitted, expected = ours.fit_transform(TEXTS), theirs.fit_transform(TEXTS)
    assert ours.vocabulary_ == theirs.vocabulary_
    np.testing.assert_allclose(ours.idf_, theirs.idf_, rtol=1e-6)
    np.testing.assert_allclose(fitted.toarray(), expected.toarray(), rtol=1e-5, atol=1e-7)
    assert fitted.dtype == np.float32
    np.testing.assert_allclose(
        ours.transform(QUESTIONS).toarray(),
        theirs.transform(QUESTIONS).toarray(),
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize("copies", [1, 30])  # a batch being answered (NumPy), and more (SciPy)
def test_rows_times_weights_is_scipys_product_with_empty_rows(copies: int) -> None:
    tfidf = NgramTfidf(char_wb_ngrams)
    tfidf.fit_transform(TEXTS)
    questions = QUESTIONS * copies  # with unknown words and an empty text: empty rows
    rows = tfidf.transform(questions)
    weights = np.random.default_rng(0).standard_normal((rows.shape[1], 7)).astype(np.float32)
    product = rows @ weights
    np.testing.assert_allclose(product, rows.tocsr() @ weights, rtol=1e-5, atol=1e-5)
    empty = np.diff(rows.indptr) == 0
    assert empty.sum() == 2 * copies
    np.testing.assert_array_equal(product.any(axis=1), ~empty)
    np.testing.assert_allclose((rows * 2.0).toarray(), 2.0 * rows.toarray())
