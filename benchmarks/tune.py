"""Measure the choices behind dedup's defaults on the dev set, and how they hold up.

For each stress variant of the dev set (as is; by source language; by
domain; shortened to the first 40 or 20 words; made noisy with typos, dropped
words and shared boilerplate, lightly or heavily; short and noisy) it reports:
  - candidate recall of MinHash LSH settings (true pairs that become candidates),
  - pair F1 of each scoring rule x linkage over a range of thresholds: the
    document TF-IDF cosine alone (word 1-grams, word 1-2-grams, char_wb
    3-5-grams), and word 1-grams mixed with the sentence match at weights
    0.3, 0.5 (the default) and 0.7,
so a default can be picked for a wide plateau that holds on every variant,
not a peak that fits one set.

    python benchmarks/tune.py                # table, saves results/tune.json
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import WMT_DEV, load_wmt, save_json  # noqa: E402

from dedup.cluster import cluster_pairs  # noqa: E402
from dedup.engines.local import Detector  # noqa: E402
from dedup.metrics import pair_scores  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.score.measure import member_scores
from dedup.score.sentences import SentenceBuilder, sentence_match
from dedup.score.tfidf import TfidfBuilder, pair_cosines  # noqa: E402
from dedup.sketch.lsh import candidate_pairs  # noqa: E402
from dedup.sketch.minhash import Signer  # noqa: E402
from dedup.text.normalize import shingles, tokenize  # noqa: E402
from dedup.text.paragraphs import split_sentences  # noqa: E402

BOILERPLATE = [
    "Share this article on Facebook Twitter WhatsApp",
    "Leave a Comment",
    "Source link",
    "Subscribe to our newsletter for the latest news",
    "All rights reserved. Reproduction prohibited.",
]


def shorten(text: str, words: int = 40) -> str:
    return " ".join(text.split()[:words])


def noisy(text: str, rng: random.Random, drop: float = 0.08, swap: float = 0.05, boilerplate: int = 3) -> str:
    """``text`` with words dropped and letters swapped, and ``boilerplate`` shared lines appended."""
    out = []
    for w in text.split():
        r = rng.random()
        if r < drop:
            continue  # dropped word
        if r < drop + swap and len(w) > 3:
            k = rng.randrange(len(w) - 1)
            w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]  # swapped letters
        out.append(w)
    noise = " ".join(out)
    return noise + "\n\n" + "\n".join(rng.sample(BOILERPLATE, boilerplate)) if boilerplate else noise


def variants(articles: list[dict]) -> dict[str, list[dict]]:
    rng = random.Random(7)
    out = {"all": articles}
    for lang in ("uk", "ru"):
        out[f"from-{lang}"] = [a for a in articles if a["origlang"] == lang]
    out["news"] = [a for a in articles if a["domain"] == "news"]
    out["not-news"] = [a for a in articles if a["domain"] != "news"]
    out["short-40w"] = [{**a, "text": shorten(a["text"])} for a in articles]
    out["noisy"] = [{**a, "text": noisy(a["text"], rng)} for a in articles]
    out["short-20w"] = [{**a, "text": shorten(a["text"], 20)} for a in articles]
    out["heavy-noise"] = [{**a, "text": noisy(a["text"], rng, drop=0.15, swap=0.10)} for a in articles]
    out["short-40w+noisy"] = [{**a, "text": noisy(shorten(a["text"]), rng)} for a in articles]
    return out


FEATURES = {
    "word 1-grams": dict(analyzer="word", ngram_range=(1, 1)),
    "word 1-2-grams": dict(analyzer="word", ngram_range=(1, 2)),
    "char_wb 3-5-grams": dict(analyzer="char_wb", ngram_range=(3, 5)),
}
# Scoring rules: (TF-IDF features, sentence weight, linkages measured).
RULES = {
    "word 1-grams": ("word 1-grams", 0.0, ("single", "average")),
    "word 1-2-grams": ("word 1-2-grams", 0.0, ("single", "average")),
    "char_wb 3-5-grams": ("char_wb 3-5-grams", 0.0, ("average",)),
    "word 1-grams + 0.3 sentence match": ("word 1-grams", 0.3, ("average",)),
    "word 1-grams + 0.5 sentence match": ("word 1-grams", 0.5, ("single", "average")),
    "word 1-grams + 0.7 sentence match": ("word 1-grams", 0.7, ("average",)),
}
CANDIDATES = {
    "stopwords off, 128 perm, b37 r3": dict(stopwords=False, num_perm=128, bands=37, rows=3),
    "stopwords on, 128 perm, b37 r3": dict(stopwords=True, num_perm=128, bands=37, rows=3),
    "stopwords on, 128 perm, b64 r2": dict(stopwords=True, num_perm=128, bands=64, rows=2),
    "stopwords on, 256 perm, b85 r3": dict(stopwords=True, num_perm=256, bands=85, rows=3),
    "stopwords on, 128 perm, b32 r4": dict(stopwords=True, num_perm=128, bands=32, rows=4),
}
THRESHOLDS = np.round(np.arange(0.26, 0.53, 0.02), 2)


def true_pair_codes(gold: np.ndarray) -> set[int]:
    n = len(gold)
    out = set()
    for g in np.unique(gold):
        m = np.flatnonzero(gold == g)
        i, j = np.triu_indices(len(m), 1)
        out.update((m[i] * n + m[j]).tolist())
    return out


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_DEV)
@click.option("--only", multiple=True, help="Run only these variants (default: all).")
def main(data: Path, only: tuple[str, ...]) -> None:
    """Candidate recall and F1-vs-threshold curves for the default's alternatives."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    report: dict = {}
    for name, arts in variants(load_wmt("en", data)).items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        _, gold = np.unique([a["cluster"] for a in arts], return_inverse=True)
        n = len(arts)
        truth = true_pair_codes(gold)
        tokens = [tokenize(a["text"]) for a in arts]
        rep: dict = {"articles": n, "true_pairs": len(truth), "candidates": {}, "f1": {}}
        click.echo(f"\n== {name}: {n} articles, {len(truth)} true pairs")
        cand_sets = {}
        for cname, c in CANDIDATES.items():
            sw = frozenset(ENGLISH_STOP_WORDS) if c["stopwords"] else frozenset()
            sig = Signer(c["num_perm"]).sign_many([shingles(t, stopwords=sw) for t in tokens])
            pairs, _ = candidate_pairs(sig, bands=c["bands"], rows=c["rows"])
            codes = set((pairs[:, 0] * n + pairs[:, 1]).tolist())
            hit = len(codes & truth)
            rep["candidates"][cname] = {
                "pairs": len(pairs),
                "true_pairs_found": hit,
                "recall": hit / len(truth),
            }
            cand_sets[cname] = pairs
            click.echo(
                f"  candidates {cname:34s} pairs {len(pairs):9,d}  direct recall {hit / len(truth):.4f}"
            )
        pairs = cand_sets[next(k for k, v in CANDIDATES.items() if v == default_candidates())]
        click.echo(f"  F1 by threshold {' ' * 28}{' '.join(f'{t:4.2f}'[1:] for t in THRESHOLDS)}")
        matrices = {}
        for fname, f in FEATURES.items():
            builder = TfidfBuilder(sublinear_tf=True, tokenizer=tokenize, **f)
            for a in arts:
                builder.add(a["text"])
            matrices[fname] = builder.matrix()
        sentence_builder = SentenceBuilder()
        for a in arts:
            sentence_builder.add([tokenize(x) for x in split_sentences(a["text"])])
        sentences = sentence_builder.matrix()
        match = sentence_match(sentences, pairs)
        for rname, (fname, weight, linkages) in RULES.items():
            matrix = matrices[fname]
            score = (1 - weight) * pair_cosines(matrix, pairs) + weight * match
            memo: dict[bytes, np.ndarray] = {}

            def sim(groups, matrix=matrix, weight=weight, memo=memo, sentences=sentences):
                todo = [m for m in groups if m.tobytes() not in memo]
                if todo:
                    for m, scores in zip(todo, member_scores(todo, matrix, sentences, weight), strict=True):
                        memo[m.tobytes()] = scores
                return [memo[m.tobytes()] for m in groups]

            for link in linkages:
                row = []
                for th in THRESHOLDS:
                    groups = cluster_pairs(
                        n, pairs[score >= th], similarity=sim, threshold=th, linkage_method=link
                    )
                    labels = np.arange(n) + n
                    for k, g in enumerate(groups):
                        labels[g] = k
                    row.append(round(pair_scores(labels.tolist(), gold.tolist()).f1, 4))
                rep["f1"][f"{rname} / {link}"] = dict(zip(THRESHOLDS.tolist(), row, strict=True))
                click.echo(
                    f"  {rname + ' / ' + link:45s}"
                    + " ".join(f"{x:.3f}"[1:] if x < 1 else "1.000" for x in row)
                )
        # the defaults end to end
        det = Detector(Params())
        from dedup.io.article import Article

        for a in arts:
            det.add(Article(a["id"], a["text"]))
        res = det.finish()
        labels = np.arange(n) + n
        index = {a["id"]: i for i, a in enumerate(arts)}
        for k, c in enumerate(res.clusters):
            labels[[index[m] for m in c.members]] = k
        sc = pair_scores(labels.tolist(), gold.tolist())
        rep["defaults"] = sc.to_dict()
        click.echo(
            f"  defaults end to end: P {sc.precision:.4f} R {sc.recall:.4f} F1 {sc.f1:.4f}"
            f"  ({time.perf_counter() - t0:.0f} s for this variant)"
        )
        report[name] = rep
    if not only:
        click.echo(f"saved {save_json('tune', {'params': Params().to_dict(), 'variants': report})}")


def default_candidates() -> dict:
    p = Params()
    b, r = p.bands_rows
    return dict(stopwords=p.stopwords == "english", num_perm=p.num_perm, bands=b, rows=r)


if __name__ == "__main__":
    main()
