"""Features: hashed terms that equal datasketch's inputs, and the same results whatever the workers."""

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Params, find_duplicates
from dedup.arrays.hashing import TermIndex, counted, counted_groups, dense_ids, hash32, term_hash, term_ids
from dedup.features import Featurizer
from dedup.featurize import default_workers, featurize_batches, featurize_many

TEXTS = [
    "Xi met Putin in Moscow on Monday. Xi's office said the talks went well.",
    "Putin welcomed Xi to Moscow for talks on Monday!",
    "The Alps: snow, snow and more snow closed the passes.",
    "",
    "习近平抵达莫斯科。普京欢迎他。",
]


def test_a_terms_low_32_bits_are_its_minhash_input():
    for term in ["putin", "зеленский", "习近", ""]:
        assert term_hash(term) & 0xFFFFFFFF == hash32(term.encode("utf-8"))
    assert term_ids(["a", "b", "a"]).tolist() == [term_hash("a"), term_hash("b"), term_hash("a")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=40))
def test_terms_hashed_together_get_their_own_ids(terms):
    # (terms may hold NUL, the separator of the joined bytes, or be empty)
    assert term_ids(terms).tolist() == [term_hash(t) for t in terms]


def test_ids_are_spread_over_all_64_bits():
    ids = term_ids([f"w{i}" for i in range(100_000)] + [str(i) for i in range(100_000)])
    assert len(set(ids.tolist())) == len(ids)
    low = ids & np.uint64(0xFFFF)  # the low bits (the MinHash input) are uniform, too
    counts = np.bincount(low.astype(np.int64), minlength=1 << 16)
    assert counts.max() < 20 and (counts == 0).mean() < 0.06  # ~3 per bucket, Poisson


@pytest.mark.parametrize("text", TEXTS)
def test_signatures_equal_datasketch_on_the_article_shingles(text):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from dedup.text.normalize import shingles, tokenize

    features = Featurizer(Params(num_perm=64)).batch([text])[0]
    m = MinHash(num_perm=64, seed=1, hashfunc=hash32)
    for shingle in shingles(tokenize(text), stopwords=frozenset(ENGLISH_STOP_WORDS)):
        m.update(shingle.encode("utf-8"))
    assert features.signature.tolist() == m.hashvalues.tolist()


@pytest.mark.parametrize(
    "params",
    [
        Params(),
        Params(shingle_size=3, tfidf_ngrams=(1, 2)),
        Params(tfidf_analyzer="char_wb", sentence_weight=0),
    ],
)
def test_worker_processes_give_the_same_features(params):
    texts = TEXTS * 20
    alone = list(featurize_many(texts, params, workers=1, chunksize=7))
    shared = list(featurize_many(texts, params, workers=2, chunksize=7, in_process=10, while_starting=False))
    assert len(alone) == len(shared) == len(texts)
    for a, b in zip(alone, shared, strict=True):
        for field in ("shingles", "terms", "counts", "sentence_terms", "sentence_counts", "sentence_sizes"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert np.array_equal(a.signature, b.signature) and a.length == b.length


def test_the_run_does_not_depend_on_the_number_of_workers(monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV, load_wmt

    if not (WMT_DEV / "articles.jsonl.gz").exists():
        pytest.skip(f"dev data not found at {WMT_DEV}")
    articles = load_wmt("en")[:1_300]  # more than the 1,000 featurised before the workers start
    import dedup.engines.local

    def waiting(*args, **kwargs):  # the workers, once started, get the 300 others
        return featurize_batches(*args, **kwargs, while_starting=False)

    monkeypatch.setattr(dedup.engines.local, "featurize_batches", waiting)
    one = find_duplicates(articles)
    two = find_duplicates(articles, workers=2)
    assert one.pairs == two.pairs
    assert [c.members for c in one.clusters] == [c.members for c in two.clusters]


def test_bad_worker_counts_are_rejected():
    with pytest.raises(ValueError, match="workers"):
        list(featurize_many(["a"], workers=0))
    assert default_workers() >= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=0, max_size=8), max_size=6))
def test_grouped_counting_equals_counting_each_group(groups):
    ids = np.array([i for g in groups for i in g], dtype=np.uint64)
    terms, counts, sizes = counted_groups(ids, [len(g) for g in groups])
    expected = [counted(np.array(g, dtype=np.uint64)) for g in groups]
    assert sizes.tolist() == [len(t) for t, _ in expected]
    assert terms.tolist() == [x for t, _ in expected for x in t.tolist()]
    assert counts.tolist() == [x for _, c in expected for x in c.tolist()]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=50) | st.lists(st.integers(0, 2**63 - 1), max_size=50),
)
def test_dense_ids_number_keys_as_numpy_unique_does(values):
    keys = np.array(values, dtype=np.int64)
    numbers, count = dense_ids(keys)
    uniq, inverse = np.unique(keys, return_inverse=True)
    assert numbers.tolist() == inverse.tolist() and count == len(uniq)
    assert dense_ids(keys.astype(np.uint64))[0].tolist() == inverse.tolist() or keys.min(initial=0) < 0


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60), st.integers(0, 60))
def test_dense_ids_number_64_bit_hashes_as_numpy_unique_does(values, near):
    # Wide keys are sorted on their top bits; keys that differ only in their low bits (``near``
    # of them above the first, in descending order) look alike there, and the result must still
    # be exact.
    keys = np.array(values + [min(values[0] + k, 2**64 - 1) for k in range(near, 0, -1)], dtype=np.uint64)
    numbers, count = dense_ids(keys)
    uniq, inverse = np.unique(keys, return_inverse=True)
    assert numbers.tolist() == inverse.tolist() and count == len(uniq)


def test_term_index_numbers_each_term_once_in_batches():
    index = TermIndex()
    assert index.number(np.array([50, 7, 50], dtype=np.uint64)).tolist() == [1, 0, 1]
    assert index.number(np.array([9, 7, 3], dtype=np.uint64)).tolist() == [3, 0, 2]
    assert len(index) == 4 and index.number(np.zeros(0, dtype=np.uint64)).tolist() == []


@pytest.mark.parametrize("batch", [1, 5, 1_000_000])
def test_numbering_in_small_batches_changes_no_similarity(batch):
    from dedup.score.sentences import SentenceBuilder, sentence_match
    from dedup.score.tfidf import TfidfBuilder, pair_cosines
    from dedup.text.normalize import tokenize
    from dedup.text.paragraphs import split_sentences

    texts = [t for t in TEXTS if t] * 3
    pairs = np.array([[i, j] for i in range(len(texts)) for j in range(i + 1, len(texts))])
    results = []
    for size in (batch, 10**9):
        docs, sentences = TfidfBuilder(tokenizer=tokenize, batch=size), SentenceBuilder(batch=size)
        for text in texts:
            docs.add(text)
            sentences.add([tokenize(s) for s in split_sentences(text)])
        results.append((pair_cosines(docs.matrix(), pairs), sentence_match(sentences.matrix(), pairs)))
    assert results[0][0] == pytest.approx(results[1][0], abs=1e-6)
    assert results[0][1].tolist() == results[1][1].tolist()  # sentence terms are ranked: exact


def test_sentence_counts_do_not_depend_on_how_articles_were_batched():
    from dedup.features import FeatureBatch
    from dedup.score.sentences import SentenceBuilder

    featurizer = Featurizer()
    fields = ("sentence_terms", "sentence_counts", "sentence_sizes")
    texts = [t for t in TEXTS if t] * 4
    matrices = []
    for cuts in ([], [1, 5, 6], list(range(1, len(texts)))):
        builder = SentenceBuilder(batch=7)
        for chunk in np.split(np.arange(len(texts)), cuts):
            batch = FeatureBatch.pack(featurizer.batch([texts[i] for i in chunk]), fields)
            assert batch.column("sentence_terms").dtype == np.uint64
            c = batch.columns
            builder.add_many(
                c["sentence_terms"], c["sentence_counts"], c["sentence_sizes"],
                batch.sizes_of("sentence_sizes"), vocabulary=batch.vocabulary,
            )  # fmt: skip
        matrices.append(builder.matrix())
    for m in matrices[1:]:
        assert (m.rows != matrices[0].rows).nnz == 0
        assert m.ptr.tolist() == matrices[0].ptr.tolist()
    with pytest.raises(RuntimeError, match="no more articles"):
        builder.add_counts(np.zeros(0, np.uint64), np.zeros(0, np.float32), np.zeros(0, np.int64))


def test_workers_send_only_the_fields_asked_for():
    texts = TEXTS * 20
    fields = ("sentence_terms", "sentence_counts", "sentence_sizes", "tokens")
    full = list(featurize_many(texts, workers=1))
    some = list(
        featurize_many(texts, workers=2, chunksize=7, in_process=0, fields=fields, while_starting=False)
    )
    for a, b in zip(full, some, strict=True):
        for field in fields:
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert len(b.shingles) == len(b.terms) == len(b.counts) == 0
        assert np.array_equal(a.signature, b.signature) and a.length == b.length
    with pytest.raises(ValueError, match="unknown Features fields"):
        list(featurize_many(texts, fields=("words",)))


def test_workers_fork_from_a_single_threaded_process_and_use_a_fork_server_otherwise():
    import os
    import sys
    import threading

    from dedup.featurize import _worker_context

    if os.name != "posix":
        pytest.skip("platform: workers are spawned where there is no fork")
    expected = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "forkserver"
    assert _worker_context().get_start_method() == expected
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _worker_context().get_start_method() == "forkserver"
        # the same features either way
        texts = TEXTS * 40
        assert [f.signature.tolist() for f in featurize_many(texts, workers=2, in_process=0)] == [
            f.signature.tolist() for f in featurize_many(texts)
        ]
    finally:
        stop.set()
        other.join()


def test_while_the_workers_start_this_process_goes_on():
    # Whatever share the main process takes while the pool starts, the features are the same,
    # and fields left out are empty in both.
    texts = TEXTS * 300
    fields = ("sentence_terms", "sentence_counts", "sentence_sizes")
    alone = list(featurize_many(texts, fields=fields))
    started = list(featurize_many(texts, workers=2, in_process=5, chunksize=50, fields=fields))
    for a, b in zip(alone, started, strict=True):
        assert np.array_equal(a.sentence_terms, b.sentence_terms) and np.array_equal(a.signature, b.signature)
        assert len(a.shingles) == len(b.shingles) == 0


def test_a_script_without_a_main_guard_gets_a_clear_error(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"
    # (a process running another thread starts its workers from a fork server, which imports
    # the script again; a single-threaded one on Linux forks them and needs no guard)
    script.write_text(
        "import threading, time\n"
        "from dedup.featurize import featurize_many\n"
        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "list(featurize_many(['Xi met Putin.'] * 20, workers=2, in_process=0))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "RuntimeError: dedup's worker processes could not start" in done.stderr
    assert "if __name__ == '__main__':" in done.stderr
