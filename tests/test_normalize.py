"""Normalisation makes typographic variants of one text tokenise alike."""

import pytest

from dedup.normalize import normalize, shingles, tokenize


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Xi’s visit", "XI'S VISIT"),
        ("ﬁnal ＡＢＣ", "final abc"),  # NFKC folds ligatures and full-width letters
        ("Straße", "STRASSE"),  # case-folding, not just lower-casing
        ("“A mission for peace“, he said.", "a mission for peace he said"),
    ],
)
def test_variants_tokenise_alike(a, b):
    assert tokenize(a) == tokenize(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("习近平抵达莫斯科", ["习近", "近平", "平抵", "抵达", "达莫", "莫斯", "斯科"]),
        ("普京：欢迎！", ["普京", "欢迎"]),
        ("G20峰会在京举行", ["g20", "峰会", "会在", "在京", "京举", "举行"]),
        ("日本の首相", ["日本", "本の", "の首", "首相"]),
        ("中 国", ["中", "国"]),  # a lone character is a token of its own
        ("Seoul 서울", ["seoul", "서울"]),  # Hangul is written with spaces: words as usual
    ],
)
def test_scripts_without_spaces_become_character_bigrams(text, expected):
    assert tokenize(text) == expected


def test_transliteration_folds_scripts_to_ascii():
    pytest.importorskip("unidecode")
    assert tokenize("Зеленский", transliterate=True) == ["zelenskii"]
    assert normalize("Café", transliterate=True) == "cafe"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"size": 1}, {"the", "cat", "sat", "on", "mat"}),
        ({"size": 2}, {"the cat", "cat sat", "sat on", "on the", "the mat"}),
        ({"size": 9}, {"the cat sat on the mat"}),  # shorter than one shingle: itself
        ({"size": 1, "stopwords": frozenset({"the", "on"})}, {"cat", "sat", "mat"}),
        ({"unit": "char", "size": 4}, {"the ", "he c", "e ca", " cat", "cat "}),
    ],
)
def test_shingles(kwargs, expected):
    tokens = tokenize("The cat sat on the mat")
    got = shingles(tokens, **kwargs)
    assert expected <= got if kwargs.get("unit") == "char" else got == expected


def test_no_tokens_no_shingles():
    assert shingles(tokenize("— … !"), size=3) == set()
