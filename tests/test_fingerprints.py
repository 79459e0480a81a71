"""Fingerprints (issue 20): what a fingerprint holds and how much each kind of token weighs when
fingerprints are compared across languages."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.crosslingual import fingerprint_matrix, fingerprint_rows
from dedup.text.fingerprints import KIND_WEIGHTS, fingerprint, fingerprint_ids, kind_weights, sound_code


@pytest.mark.parametrize(
    ("capitalised", "lowercase"),
    [
        ("The Ukrainian army withdrew.", "Українська армія відступила, сказали українські військові."),
        ("Die Inflation steigt weiter.", "Selon la banque, l'inflation augmente encore."),
    ],
)
def test_a_name_counts_as_a_word_too_since_capitals_do_not_survive_translation(capitalised, lowercase):
    # English capitalises nationalities, German every noun; Ukrainian and French neither.
    name = next(t for t in fingerprint(capitalised) if t.startswith("@"))
    assert "~" + name[1:] in fingerprint(capitalised)
    assert "~" + name[1:] in fingerprint(lowercase) and name not in fingerprint(lowercase)


def test_a_word_opening_a_sentence_is_no_name():
    tokens = fingerprint("Inflation rose. Zelensky spoke.\nReporters listened to Zelensky.")
    names = [t for t in tokens if t.startswith("@")]
    assert names == ["@" + sound_code("Zelensky")]
    assert tokens.count("~" + sound_code("Zelensky")) == 2


def test_fingerprint_ids_carry_the_kind_of_their_token():
    tokens = ["#2023", "@z452", "~z452", "~z452"]
    ids = fingerprint_ids(tokens)
    assert len(ids) == 4 and list(ids) == sorted(ids)
    assert len(set(ids.tolist())) == 3  # a name and the same code as a word are two tokens
    assert sorted(kind_weights(ids).tolist()) == sorted(KIND_WEIGHTS[t[0]] for t in tokens)
    assert fingerprint_ids([]).dtype == np.uint64 and len(fingerprint_ids([])) == 0


def test_a_shared_name_counts_for_more_than_a_shared_word_code():
    # Each shared token is in two of the rows (the same IDF): only its kind differs.
    text = fingerprint_ids(["@z452", "~i514"])
    same_name, same_word = fingerprint_ids(["@z452", "#7"]), fingerprint_ids(["~i514", "#8"])
    rows = fingerprint_rows([text, same_name, same_word])
    similar = (rows @ rows.T).toarray()
    assert similar[0, 1] > similar[0, 2] > 0
    assert KIND_WEIGHTS["#"] >= KIND_WEIGHTS["@"] > KIND_WEIGHTS["~"] > 0


def test_a_translation_is_closer_than_another_story_with_the_same_common_words():
    en = "Ukrainian President Volodymyr Zelensky met Joe Biden in Washington on 12 June 2023."
    uk = "Президент України Володимир Зеленський зустрівся з Джо Байденом у Вашингтоні 12 червня 2023 року."
    other = "Президент України поговорив з представниками профспілок про реформу та проблеми освіти."
    rows = fingerprint_matrix([en, uk, other])
    similar = (rows @ rows.T).toarray()
    assert similar[0, 1] > 2 * similar[0, 2]
