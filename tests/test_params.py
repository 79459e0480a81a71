"""Parameters are validated up front, with messages that say how to fix the call."""

import pytest

from dedup import Params, find_duplicates


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "threshold must be a number in"),
        ({"lsh_threshold": 0}, "lsh_threshold must be a number in"),
        ({"num_perm": 0}, "num_perm must be a positive integer"),
        ({"shingle_size": 2.5}, "shingle_size must be a positive integer"),
        ({"linkage": "ward"}, "linkage must be one of"),
        ({"representative": "shortest"}, "representative must be one of"),
        ({"stopwords": "french"}, "stopwords must be one of"),
        ({"bands": 10}, "give both bands and rows"),
        ({"bands": 100, "rows": 2}, "exceeds num_perm"),
        ({"tfidf_ngrams": (2, 1)}, "tfidf_ngrams must be"),
        ({"seed": -1}, "seed must be"),
        ({"sentence_weight": 1.2}, "sentence_weight must be a number in"),
        ({"sentence_weight": "half"}, "sentence_weight must be a number in"),
    ],
)
def test_bad_parameters_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Params(**kwargs)


def test_unknown_parameter_is_named():
    with pytest.raises(TypeError, match="unknown parameter.*treshold"):
        find_duplicates([("a", "text")], treshold=0.5)


def test_parameters_are_checked_before_reading_any_article():
    def articles():
        raise AssertionError("read before validation")
        yield

    with pytest.raises(ValueError, match="threshold"):
        find_duplicates(articles(), threshold=2)


def test_to_dict_records_the_derived_lsh_bands():
    d = Params().to_dict()
    assert (d["bands"], d["rows"]) == Params().bands_rows
    assert d["bands"] * d["rows"] <= d["num_perm"]
    assert Params(bands=16, rows=4).bands_rows == (16, 4)
