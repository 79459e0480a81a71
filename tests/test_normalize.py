"""Normalisation makes typographic variants of one text tokenise alike."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.text.normalize import SENTENCE_ENDS, normalize, shingles, tokenize, tokenize_sentences
from dedup.text.paragraphs import split_sentences


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


def _sentences_one_by_one(text: str) -> list[list[str]]:
    return [tokens for tokens in (tokenize(s) for s in split_sentences(text)) if tokens]


def _sentences_in_one_pass(text: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for item in tokenize_sentences(text):
        if item in SENTENCE_ENDS:
            out.append([])
        else:
            out[-1].append(item)
    return [s for s in out if s]


@given(st.text(alphabet=st.sampled_from(list("ab Z9_ \n\t.!?…\"'»”’)]-,;:é")), max_size=80))
def test_one_pass_finds_the_sentences_of_split_sentences(text):
    assert _sentences_in_one_pass(text) == _sentences_one_by_one(text)


@pytest.mark.parametrize(
    "text",
    [
        "Xi arrived. “We will talk,” he said! Putin… smiled?\nNew line",
        "習近平抵達莫斯科。他說！普京？笑了",
        "",
        "no end at all",
    ],
)
def test_one_pass_examples(text):
    assert _sentences_in_one_pass(text) == _sentences_one_by_one(text)


def test_the_stop_word_copy_equals_scikit_learns():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from dedup.text.stopwords import ENGLISH

    assert ENGLISH == ENGLISH_STOP_WORDS
