"""The compact maps a run keeps per article (ids seen, texts seen) behave as a dict would."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays.keymap import KeyMap, SeenStrings


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300, unique=True), st.integers(1, 40))
def test_a_keymap_answers_as_a_dict_across_its_merges(keys, recent):
    """Keys added a few at a time, merged into the sorted arrays every ``recent``: every lookup
    (hits and misses) is the dict's."""
    m, d = KeyMap(width=2, recent=recent), {}
    for k, key in enumerate(keys):
        m.add(key, k, -k)
        d[key] = (k, -k)
        if k % 7 == 0:
            probe = np.array([*keys[: k + 1], (key + 1) % 2**64], dtype=np.uint64)
            want = [d.get(int(x), (-1, -1)) for x in probe.tolist()]
            assert [tuple(r) for r in m.get_many(probe).tolist()] == want
    assert len(m) == len(keys)


def test_a_record_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="2 field"):
        KeyMap(width=2).add(1, 5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "é", "", "a\x00b", "x" * 50]), max_size=12), max_size=6)
)
def test_seen_strings_give_each_string_its_first_record(calls):
    seen, first, record = SeenStrings(), {}, 0
    for strings in calls:
        records = list(range(record, record + len(strings)))
        record += len(strings)
        expected = []
        for s, r in zip(strings, records, strict=True):
            expected.append(first.get(s, -1))
            first.setdefault(s, r)
        assert seen.first_seen(strings, records) == expected


def test_two_strings_sharing_a_first_hash_are_still_two(monkeypatch):
    """A 64-bit hash shared by two different ids (rare, not impossible) does not make one a
    duplicate of the other: the second hash tells them apart."""
    import dedup.arrays.keymap as keymap

    real = keymap.term_ids
    monkeypatch.setattr(
        keymap, "term_ids", lambda strings: np.zeros(len(strings), dtype=np.uint64) + real(["same"])
    )
    seen = SeenStrings()
    assert seen.first_seen(["x", "y", "x"], [1, 2, 3]) == [-1, -1, 1]
    assert seen.first_seen(["y", "z"], [4, 5]) == [2, -1]


def test_a_run_tells_apart_two_ids_of_one_hash_and_still_refuses_a_repeat(monkeypatch):
    import dedup.engines.local as local
    from dedup.io.article import Article

    real = local.term_ids
    monkeypatch.setattr(local, "term_ids", lambda s: np.zeros(len(s), dtype=np.uint64) + real(["same"]))
    det = local.Detector()
    det.add_many([Article("a", "Xi visits Putin in Moscow."), Article("b", "Xi visits Putin in Moscow!")])
    assert det.positions(["b", "a", "c"]).tolist() == [1, 0, -1]
    with pytest.raises(ValueError, match="duplicate id 'b'"):
        det.add(Article("b", "Another text."))
    assert [c.members for c in det.finish().clusters] == [["a", "b"]]
