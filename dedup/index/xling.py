"""Cross-lingual matches in an index (``Index.open(..., cross_lingual=True)``).

This module is over 500 lines because linking after an add is one procedure over the index's
stored groups, postings, stories and embeddings, which its parts share.

What a batch run does once over all its articles (:func:`dedup.crosslingual.link_groups`), an
index does for each batch it adds, over the groups the batch touched and their neighbours:

- every article is kept with its language, its fingerprint token ids, its length and (with the
  embedding extra) the head of its text; its **group** is the group of its best same-language
  match when it has one, else a group of its own; a document frequency per fingerprint token
  gives the IDF, as :func:`~dedup.crosslingual.fingerprint_rows` computes it over a run;
- after a batch is stored, each group it touched (a new group, or a held one with a new member)
  is compared with its **candidates** in each other language: the groups holding its heaviest
  tokens (the 64 of :func:`~dedup.crosslingual.links.candidate_pairs`, each held by at most 64
  groups of that language); then the best match found in each language is compared with its own
  candidates in the touched group's language, so that both ends of a link see their nearest.
  Over those groups, :func:`~dedup.crosslingual.best_matches` and
  :func:`~dedup.crosslingual.mutual_links` decide as in a run (with embeddings: the fingerprint
  groups embedded too, one text per group, embeddings kept once made);
- the links that touch the batch's groups join their **stories** (the index's cross-language
  clusters), strongest first, never two groups of one language in one story. A link held is never
  undone: a later group that would be a better match for a group already linked in its
  language stays out of that story.

So a batch added to an empty index gets the links a run over those articles makes (the
candidates then are every group), given the same groups; later batches see the IDF and the
groups as they are when they arrive (docs/persistent-index.md measures the difference).

Everything is kept in the store's blobs (:meth:`~dedup.index.store.Writer.put`) by kind:
``xr`` id -> record, ``xg`` group -> its members, ``xf`` token -> articles holding it, ``xp:LANG``
token -> groups with an article of LANG holding it, ``xs`` story -> its groups and links, ``xe``
article -> its embedding, ``xm`` the counters.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from dedup.arrays.hashing import sorted_distinct
from dedup.crosslingual import best_links
from dedup.crosslingual.groups import MACROLANGUAGES, group_languages
from dedup.crosslingual.links import CANDIDATES, KEYS, MAX_DF, combined, linked_languages
from dedup.crosslingual.merge import COHESION
from dedup.crosslingual.vectors import centred, fingerprint_rows, group_vectors, voices
from dedup.features import Features
from dedup.index.store import Reader, Writer

WEIGHT = 0.5
"""The share of the embedding cosine in a comparison with embeddings (``link_groups``' default)."""

REC, GRP, FDF, STORY, EMB, META = "xr", "xg", "xf", "xs", "xe", "xm"
COMMON = b"common"
"""The postings of a token held by more than :data:`~dedup.crosslingual.links.MAX_DF` groups of a
language (it finds no candidates there; its list is no longer kept)."""


def _post(lang: str) -> str:
    return "xp:" + lang


def _int_key(value: int) -> bytes:
    return int(value).to_bytes(8, "little", signed=True)


@dataclass
class Record:
    """What a cross-lingual index keeps of one article besides its sketch."""

    id: str
    order: int  # the order it was added in (the index's counter)
    lang: str
    group: int
    length: int
    fingerprint: np.ndarray  # uint64 token ids, sorted, repeats kept
    head: bytes = b""

    def pack(self) -> bytes:
        header = json.dumps(
            {
                "order": self.order,
                "lang": self.lang,
                "group": self.group,
                "length": self.length,
                "tokens": len(self.fingerprint),
            }  # fmt: skip
        ).encode()
        return header + b"\n" + self.fingerprint.astype("<u8").tobytes() + self.head

    @classmethod
    def unpack(cls, article_id: str, blob: bytes) -> Record:
        header, _, rest = blob.partition(b"\n")
        h = json.loads(header)
        size = 8 * h["tokens"]
        fp = np.frombuffer(rest[:size], dtype="<u8").astype(np.uint64)
        return cls(article_id, h["order"], h["lang"], h["group"], h["length"], fp, rest[size:])


@dataclass
class Group:
    """A same-language group: its members (ids, in the order they were added), their languages
    and the story it belongs to."""

    id: int
    members: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    story: int = -1

    @property
    def lang(self) -> str:
        """Its language as linking sees it (:func:`~dedup.crosslingual.group_languages`)."""
        return group_languages([range(len(self.langs))], self.langs)[0]

    @property
    def spoken(self) -> str:
        """Its members' most frequent language (the first seen among equals)."""
        return Counter(self.langs).most_common(1)[0][0]

    def pack(self) -> bytes:
        return json.dumps({"members": self.members, "langs": self.langs, "story": self.story}).encode()

    @classmethod
    def unpack(cls, group: int, blob: bytes) -> Group:
        h = json.loads(blob)
        return cls(group, h["members"], h["langs"], h["story"])


@dataclass
class Story:
    """Groups of different languages linked into one cluster, and the links that joined them."""

    id: int
    groups: list[int]
    langs: list[str]
    links: list[list[Any]] = field(default_factory=list)  # [group a, group b, cosine, margin]

    def pack(self) -> bytes:
        return json.dumps({"groups": self.groups, "langs": self.langs, "links": self.links}).encode()

    @classmethod
    def unpack(cls, story: int, blob: bytes) -> Story:
        h = json.loads(blob)
        return cls(story, h["groups"], h["langs"], h["links"])


@dataclass(frozen=True)
class CrossMatch:
    """A held article of another language in the story of the article asked about."""

    id: str
    lang: str
    cosine: float
    margin: float


class Linker:
    """The cross-lingual side of one index (see the module's docstring)."""

    def __init__(self, threshold: float, embeds: bool, threads: int = 1) -> None:
        self.threshold = threshold
        self.embeds = embeds
        self.threads = threads
        self.embedded = 0  # texts embedded by this linker (the slow step)

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def records(r: Reader, ids: Sequence[str]) -> dict[str, Record]:
        blobs = r.blobs(REC, [i.encode() for i in ids])
        return {i: Record.unpack(i, b) for i, b in zip(ids, blobs, strict=True) if b is not None}

    @staticmethod
    def groups(r: Reader, ids: Sequence[int]) -> dict[int, Group]:
        blobs = r.blobs(GRP, [_int_key(g) for g in ids])
        return {g: Group.unpack(g, b) for g, b in zip(ids, blobs, strict=True) if b is not None}

    @staticmethod
    def stories(r: Reader, ids: Sequence[int]) -> dict[int, Story]:
        blobs = r.blobs(STORY, [_int_key(s) for s in ids])
        return {s: Story.unpack(s, b) for s, b in zip(ids, blobs, strict=True) if b is not None}

    @staticmethod
    def _counter(r: Reader, name: bytes) -> int:
        (blob,) = r.blobs(META, [name])
        return 0 if blob is None else int(blob)

    # -- adding ----------------------------------------------------------------------------

    def hold(self, w: Writer, article_id: str, f: Features, matched: Sequence[str]) -> int:
        """Keep the article (``f``: its features; ``matched``: its same-language matches, best
        first) in the group of its best match, or a new one; returns its group."""
        order = self._counter(w, b"order")
        group = -1
        if matched:
            held = self.records(w, list(matched))
            best = next((held[m] for m in matched if m in held), None)
            group = -1 if best is None else best.group
        mine = self.groups(w, [group]).get(group) if group >= 0 else None
        if mine is None:
            group = self._counter(w, b"group")
            w.put(META, {b"group": str(group + 1).encode()})
            mine = Group(group)
        w.put(META, {b"order": str(order + 1).encode()})
        self.note_languages(w, [MACROLANGUAGES.get(f.lang, f.lang)])
        head = f.head.tobytes() if self.embeds else b""
        w.put(
            REC,
            {
                article_id.encode(): Record(
                    article_id, order, f.lang, group, f.length, f.fingerprint, head
                ).pack()
            },
        )
        mine.members.append(article_id)
        mine.langs.append(f.lang)
        w.put(GRP, {_int_key(group): mine.pack()})
        tokens = sorted_distinct(np.asarray(f.fingerprint, dtype=np.uint64))
        keys = [_int_key(t) for t in tokens.view(np.int64).tolist()]
        counts = w.blobs(FDF, keys)
        w.put(FDF, {k: str(int(c or 0) + 1).encode() for k, c in zip(keys, counts, strict=True)})
        linked_as = MACROLANGUAGES.get(f.lang, f.lang)
        lists = w.blobs(_post(linked_as), keys)
        changed = {}
        for k, got in zip(keys, lists, strict=True):
            if got == COMMON:
                continue
            held_by = np.frombuffer(got or b"", dtype="<i8")
            if group in held_by:
                continue
            changed[k] = (
                COMMON if len(held_by) >= MAX_DF else np.append(held_by, group).astype("<i8").tobytes()
            )
        w.put(_post(linked_as), changed)
        return group

    def forget(self, w: Writer, article_id: str) -> None:
        """Forget an article (removed, or replaced): out of its group, its tokens uncounted; a
        group left empty leaves its story. (Postings keep the group: a group no longer holding a
        token is only one candidate more, scored by what it holds.)"""
        rec = self.records(w, [article_id]).get(article_id)
        if rec is None:
            return
        w.drop(REC, [article_id.encode()])
        w.drop(EMB, [article_id.encode()])
        tokens = sorted_distinct(rec.fingerprint)
        keys = [_int_key(t) for t in tokens.view(np.int64).tolist()]
        counts = w.blobs(FDF, keys)
        w.put(
            FDF, {k: str(int(c) - 1).encode() for k, c in zip(keys, counts, strict=True) if c and int(c) > 1}
        )
        w.drop(FDF, [k for k, c in zip(keys, counts, strict=True) if not c or int(c) <= 1])
        group = self.groups(w, [rec.group]).get(rec.group)
        if group is None:
            return
        at = group.members.index(article_id)
        del group.members[at], group.langs[at]
        if group.members:
            w.put(GRP, {_int_key(group.id): group.pack()})
            return
        w.drop(GRP, [_int_key(group.id)])
        story = self.stories(w, [group.story]).get(group.story)
        if story is not None:
            at = story.groups.index(group.id)
            del story.groups[at], story.langs[at]
            story.links = [x for x in story.links if group.id not in x[:2]]
            if len(story.groups) > 1:
                w.put(STORY, {_int_key(story.id): story.pack()})
            else:
                w.drop(STORY, [_int_key(story.id)])
                for g in self.groups(w, story.groups).values():
                    g.story = -1
                    w.put(GRP, {_int_key(g.id): g.pack()})

    # -- linking ---------------------------------------------------------------------------

    def link(self, w: Writer, touched: Sequence[int]) -> None:
        """Link the groups ``touched`` by a batch (see the module's docstring), with the
        document frequencies as they are now (the batch counted)."""
        touched = list(dict.fromkeys(touched))
        if not touched:
            return
        n = w.count()
        cache: dict[int, Group] = dict(self.groups(w, touched))
        touched = [g for g in touched if g in cache]
        vectors: dict[int, Any] = {}

        def load(ids: Sequence[int]) -> None:
            missing = [g for g in ids if g not in cache]
            cache.update(self.groups(w, missing))
            need = [g for g in ids if g not in vectors and g in cache]
            if need:
                for g, row in zip(need, self._vectors(w, [cache[g] for g in need], n), strict=True):
                    vectors[g] = row

        load(touched)
        langs = {cache[g].lang for g in touched}
        others = {lang for lang in self._languages(w) if lang not in langs} | langs
        # pass 1: each touched group's candidates in every other language
        chosen = list(touched)
        for g in touched:
            for other in sorted(others - {cache[g].lang}):
                chosen += self._candidates(w, vectors[g], other, cache, load)
        chosen = list(dict.fromkeys(chosen))
        load(chosen)
        # pass 2: the best match of each touched group in each language, with its own candidates
        matched = self._best_of(chosen, touched, cache, vectors)
        more = []
        for h, lang in matched:
            load([h])
            more += self._candidates(w, vectors[h], lang, cache, load)
        chosen = list(dict.fromkeys(chosen + more))
        load(chosen)
        chosen = [g for g in chosen if g in vectors]
        # (in a run's order: the groups of two or more articles, then the lone ones, each by its first)
        chosen.sort(key=lambda g: (len(cache[g].members) < 2, vectors[g][2]))
        mine = set(touched)
        links = [x for x in self._links(w, chosen, cache, vectors) if x[0] in mine or x[1] in mine]
        self._join(w, links, cache, vectors, load)

    def _languages(self, r: Reader) -> list[str]:
        (blob,) = r.blobs(META, [b"langs"])
        return [] if blob is None else json.loads(blob)

    def note_languages(self, w: Writer, langs: Sequence[str]) -> None:
        """Remember the languages held (which postings to look in)."""
        known = self._languages(w)
        new = sorted(set(langs) - set(known))
        if new:
            w.put(META, {b"langs": json.dumps(sorted({*known, *new})).encode()})

    def _vectors(self, r: Reader, groups: list[Group], n: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """Each group's fingerprint vector, with the IDF of the articles held (a run's
        :func:`~dedup.crosslingual.fingerprint_rows` and :func:`~dedup.crosslingual.group_vectors`),
        as its tokens and their weights, and the order its first member was added in."""
        ids = [m for g in groups for m in g.members]
        recs = self.records(r, ids)
        tokens = [recs[m].fingerprint for m in ids]

        flat = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.uint64)
        vocabulary = np.unique(flat)
        blobs = r.blobs(FDF, [_int_key(t) for t in vocabulary.view(np.int64).tolist()])
        df = np.array([int(b or 0) for b in blobs], dtype=np.int64)
        rows = fingerprint_rows(tokens, frequencies=(vocabulary, df, n))
        starts = np.cumsum([0] + [len(g.members) for g in groups])
        vecs = group_vectors(rows, [list(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)])
        # (columns name tokens through a vocabulary of these articles: kept as (token, weight))
        out = []
        for k in range(len(groups)):
            row = vecs[k]
            out.append((vocabulary[row.indices], row.data.copy(), recs[groups[k].members[0]].order))
        return out

    def _candidates(self, r: Reader, vector: Any, lang: str, cache: dict[int, Group], load: Any) -> list[int]:
        """The groups of ``lang`` most likely to match a group of ``vector`` (its heaviest tokens
        held by at most :data:`MAX_DF` groups there; the :data:`CANDIDATES` that share the most
        of its weight)."""
        tokens, weights, _ = vector
        top = np.argsort(-weights, kind="stable")[:KEYS]
        keys = [_int_key(t) for t in tokens[top].view(np.int64).tolist()]
        score: Counter[int] = Counter()
        for weight, got in zip(weights[top].tolist(), r.blobs(_post(lang), keys), strict=True):
            if got is None or got == COMMON:
                continue
            for g in np.frombuffer(got, dtype="<i8").tolist():
                score[g] += weight
        ranked = [g for g, _ in score.most_common()]
        cache.update(self.groups(r, [g for g in ranked if g not in cache]))
        return [g for g in ranked if g in cache and cache[g].lang == lang][:CANDIDATES]

    def _matrix(self, chosen: list[int], vectors: dict[int, Any]) -> sp.csr_matrix:
        tokens = np.concatenate([vectors[g][0] for g in chosen]) if chosen else np.zeros(0, np.uint64)
        vocabulary, columns = np.unique(tokens, return_inverse=True)
        rows = np.repeat(np.arange(len(chosen)), [len(vectors[g][0]) for g in chosen])
        data = np.concatenate([vectors[g][1] for g in chosen]) if chosen else np.zeros(0, np.float32)
        m = sp.csr_matrix((data, (rows, columns)), shape=(len(chosen), len(vocabulary)), dtype=np.float32)
        m.sort_indices()
        return m

    def _best_of(
        self, chosen: list[int], touched: list[int], cache: dict[int, Group], vectors: dict[int, Any]
    ) -> list[tuple[int, str]]:
        """The best match of each touched group in each other language (and its language)."""
        from dedup.crosslingual import best_matches

        mine = set(touched)
        langs = [cache[g].lang for g in chosen]
        found = best_matches(self._matrix(chosen, vectors), langs)
        return [(chosen[h], langs[k]) for (k, _), (h, _) in found.best.items() if chosen[k] in mine]

    def _links(
        self, w: Writer, chosen: list[int], cache: dict[int, Group], vectors: dict[int, Any]
    ) -> list[tuple]:
        """The links among ``chosen``, as ``(group a, group b, lang a, lang b, cosine, margin)``
        (with embeddings, every group of ``chosen`` embedded, as
        :func:`~dedup.crosslingual.link_groups` does)."""
        langs = [cache[g].lang for g in chosen]
        matrix = self._matrix(chosen, vectors)
        embeddings = None
        self._mean_free: dict[int, np.ndarray] = {}
        if self.embeds and len(set(langs)) > 1:
            embeddings = self._embeddings(w, [cache[g] for g in chosen])
            self._mean_free = dict(zip(chosen, centred(embeddings, linked_languages(langs)), strict=True))
        found = best_links(matrix, langs, threshold=self.threshold, embeddings=embeddings)
        return [(chosen[x.a], chosen[x.b], x.lang_a, x.lang_b, x.cosine, x.margin) for x in found]

    def _similarity(self, these: list[int], those: list[int], vectors: dict[int, Any]) -> float:
        """The mean similarity of two stories' groups, as :func:`~dedup.crosslingual.join_groups`
        measures it for :func:`~dedup.crosslingual.merge`'s cohesion (with embeddings, those of
        the groups compared in this batch; a held group outside them by its fingerprints)."""
        m = self._matrix([*these, *those], vectors)
        scores = (m[: len(these)] @ m[len(these) :].T).toarray()
        free = self._mean_free
        if free:
            for i, g in enumerate(these):
                for j, h in enumerate(those):
                    if g in free and h in free:
                        scores[i, j] = combined(scores[i, j], float(free[g] @ free[h]), WEIGHT)
        return float(np.maximum(scores, 0.0).mean())

    def _embeddings(self, w: Writer, groups: list[Group]) -> np.ndarray:
        """Each group's embedding: its longest article's (the first of equals), made once and kept."""
        from dedup.text.embeddings import embed, head_length

        members = [m for g in groups for m in g.members]
        recs = self.records(w, members)
        lengths = np.array([recs[m].length for m in members], dtype=np.int64)
        starts = np.cumsum([0] + [len(g.members) for g in groups])
        spoken = voices([list(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)], lengths)
        speakers = [members[k] for k in spoken.tolist()]
        kept = w.blobs(EMB, [s.encode() for s in speakers])
        todo = [s for s, e in zip(speakers, kept, strict=True) if e is None]
        made = {}
        if todo:
            texts = [recs[s].head.decode("utf-8", "ignore")[: head_length(recs[s].lang)] for s in todo]
            rows = embed(texts, threads=self.threads)
            self.embedded += len(todo)
            made = {s: rows[k] for k, s in enumerate(todo)}
            w.put(EMB, {s.encode(): np.asarray(v, dtype="<f4").tobytes() for s, v in made.items()})
        return np.stack(
            [
                made[s] if e is None else np.frombuffer(e, dtype="<f4")
                for s, e in zip(speakers, kept, strict=True)
            ]
        ).astype(np.float32)

    def _join(
        self, w: Writer, links: list[tuple], cache: dict[int, Group], vectors: dict[int, Any], load: Any
    ) -> None:
        """Join the stories of linked groups, strongest link first,
        never two groups of one language in a story (as :func:`dedup.crosslingual.merge`)."""

        def strongest(some: list[tuple]) -> list[tuple]:
            return sorted(some, key=lambda x: (-x[5], -x[4], x[0], x[1]))

        stories: dict[int, Story] = {}

        def story_of(g: int) -> Story:
            group = cache[g]
            if group.story >= 0 and group.story not in stories:
                stories.update(self.stories(w, [group.story]))
            if group.story < 0 or group.story not in stories:
                group.story = g
                stories[g] = Story(g, [g], [group.lang])
            return stories[group.story]

        changed: set[int] = set()
        for a, b, _, _, cosine, margin in strongest(links):
            x, y = story_of(a), story_of(b)
            if x.id == y.id or set(x.langs) & set(y.langs):
                continue
            if len(x.groups) + len(y.groups) > 2:  # (merge's cohesion)
                load([*x.groups, *y.groups])
                if self._similarity(x.groups, y.groups, vectors) < COHESION * cosine:
                    continue
            keep, gone = (x, y) if x.id < y.id else (y, x)
            keep.groups += gone.groups
            keep.langs += gone.langs
            keep.links += [*gone.links, [a, b, cosine, margin]]
            for g in gone.groups:
                cache.update(self.groups(w, [g]) if g not in cache else {})
                cache[g].story = keep.id
                changed.add(g)
            stories.pop(gone.id)
            w.drop(STORY, [_int_key(gone.id)])
            changed.update(keep.groups)
        for s in stories.values():
            if len(s.groups) > 1:
                w.put(STORY, {_int_key(s.id): s.pack()})
        cache.update(self.groups(w, [g for g in changed if g not in cache]))  # (a held story's)
        w.put(GRP, {_int_key(g): cache[g].pack() for g in changed})

    # -- answering -------------------------------------------------------------------------

    def matches(self, r: Reader, article_ids: Sequence[str]) -> dict[str, list[CrossMatch]]:
        """For each article (held), the articles of other languages in its story added before it,
        each with the weakest link on the way from its group to theirs."""
        recs = self.records(r, list(article_ids))
        groups = self.groups(r, sorted({x.group for x in recs.values()}))
        stories = self.stories(r, sorted({g.story for g in groups.values() if g.story >= 0}))
        out: dict[str, list[CrossMatch]] = {}
        for article_id in article_ids:
            rec = recs.get(article_id)
            group = groups.get(rec.group) if rec is not None else None
            story = stories.get(group.story) if group is not None else None
            if rec is None or group is None or story is None:
                out[article_id] = []
                continue
            others = self.groups(r, [g for g in story.groups if g != group.id])
            found = []
            for g in others.values():
                if g.lang == group.lang:
                    continue
                cosine, margin = _path(story.links, group.id, g.id)
                held = self.records(r, g.members)
                found += [
                    CrossMatch(m, held[m].lang, cosine, margin)
                    for m in g.members
                    if m in held and held[m].order < rec.order
                ]
            out[article_id] = sorted(found, key=lambda m: (-m.margin, m.id))
        return out

    def links(self, r: Reader) -> list[tuple[str, str, str, str, float, float]]:
        """Every link held: ``(a, b, lang_a, lang_b, cosine, margin)`` between the first members
        (by order added) of the two groups."""
        out = []
        for key, blob in r.scan(STORY):
            story = Story.unpack(int.from_bytes(key, "little", signed=True), blob)
            groups = self.groups(r, story.groups)
            for a, b, cosine, margin in story.links:
                ga, gb = groups[a], groups[b]
                out.append((ga.members[0], gb.members[0], ga.spoken, gb.spoken, cosine, margin))
        return out


def _path(links: list[list[Any]], start: int, end: int) -> tuple[float, float]:
    """The cosine and margin of the weakest link (by margin) on the path between two groups of a
    story (a tree of links)."""
    edges: dict[int, list[tuple[int, float, float]]] = {}
    for a, b, cosine, margin in links:
        edges.setdefault(a, []).append((b, cosine, margin))
        edges.setdefault(b, []).append((a, cosine, margin))
    todo = [(start, (float("inf"), float("inf")))]
    seen = {start}
    while todo:
        g, weakest = todo.pop()
        if g == end:
            return weakest[1], weakest[0]
        for h, cosine, margin in edges.get(g, []):
            if h not in seen:
                seen.add(h)
                todo.append((h, min(weakest, (margin, cosine))))
    return (0.0, 0.0)
