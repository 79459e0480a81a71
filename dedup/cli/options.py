"""The options the commands share: the detection parameters (one each, from ``Params``), how
to read the inputs, the aligner's, an index opened with the options given; and where output goes."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import click

from dedup.index.store import shown_location
from dedup.io.read import MAX_CHARS
from dedup.params import (
    LINKAGES,
    REPRESENTATIVES,
    SHINGLE_UNITS,
    STOPWORD_LISTS,
    TFIDF_ANALYZERS,
    XLING_EMBEDDINGS,
    XLING_THRESHOLDS,
    Params,
)
from dedup.runtime.memory import check_limit

_DEFAULTS = Params()


def _ngrams(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        lo, _, hi = value.partition(",")
        return int(lo), int(hi or lo)
    except ValueError:
        raise click.BadParameter(f"expected MIN,MAX such as 1,2; got {value!r}") from None


def with_options(f, options: list) -> Any:
    """Apply click options to ``f`` so that they are listed in the order given."""
    for option in reversed(options):
        f = option(f)
    return f


def param_options(f):
    """The detection parameters, one option each (see ``dedup.Params``)."""
    d = _DEFAULTS
    options = [
        click.option(
            "--shingle-unit",
            type=click.Choice(SHINGLE_UNITS),
            default=d.shingle_unit,
            show_default=True,
            help="Shingles for MinHash: word or character n-grams.",
        ),
        click.option(
            "--shingle-size",
            type=int,
            default=d.shingle_size,
            show_default=True,
            help="Shingle length in words/characters. 1 word finds MT variants; 5 only near-copies.",
        ),
        click.option(
            "--stopwords",
            type=click.Choice(STOPWORD_LISTS),
            default=d.stopwords,
            show_default=True,
            help="Drop English stop words from the shingles (fewer chance candidates).",
        ),
        click.option(
            "--transliterate/--no-transliterate",
            default=d.transliterate,
            show_default=True,
            help="Fold text to ASCII before tokenising (needs newsdedup[translit]).",
        ),
        click.option(
            "--num-perm",
            type=int,
            default=d.num_perm,
            show_default=True,
            help="MinHash signature length; more is more accurate and slower.",
        ),
        click.option("--seed", type=int, default=d.seed, show_default=True, help="MinHash permutation seed."),
        click.option(
            "--lsh-threshold",
            type=float,
            default=d.lsh_threshold,
            show_default=True,
            help="Shingle Jaccard similarity the LSH aims at; lower finds more candidates (recall), "
            "higher fewer (speed).",
        ),
        click.option(
            "--bands", type=int, default=None, help="LSH bands (with --rows; overrides --lsh-threshold)."
        ),
        click.option("--rows", type=int, default=None, help="LSH rows per band (with --bands)."),
        click.option(
            "--min-jaccard",
            type=float,
            default=d.min_jaccard,
            show_default=True,
            help="Verify a pair that met in an LSH band only if its MinHash signatures agree on at "
            "least this share of values (0: every band hit).",
        ),
        click.option(
            "--max-bucket",
            type=int,
            default=d.max_bucket,
            help="LSH buckets larger than this give each member with the bucket's leader, "
            "not all their pairs. Default: 8 (200 with --all-pairs).",
        ),
        click.option(
            "--all-pairs/--families",
            default=d.all_pairs,
            show_default=True,
            help="Verify, and write to pairs.jsonl, every pair of a family (cost: the square of its "
            "size). Default: exact copies are one member, large families are verified against a few "
            "leaders, and pairs.jsonl holds the pairs that made each cluster.",
        ),
        click.option(
            "--tfidf-analyzer",
            type=click.Choice(TFIDF_ANALYZERS),
            default=d.tfidf_analyzer,
            show_default=True,
            help="TF-IDF features: words or characters within words.",
        ),
        click.option(
            "--tfidf-ngrams",
            callback=_ngrams,
            default=",".join(map(str, d.tfidf_ngrams)),
            show_default=True,
            help="TF-IDF n-gram range as MIN,MAX.",
        ),
        click.option(
            "--sublinear-tf/--no-sublinear-tf",
            default=d.sublinear_tf,
            show_default=True,
            help="Use 1 + log(tf) so repeated words count less.",
        ),
        click.option(
            "--sentence-weight",
            type=float,
            default=d.sentence_weight,
            show_default=True,
            help="Weight of the sentence match in the score (the rest is the document cosine): how much "
            "of the smaller article is said, sentence by sentence, in the other. 0: cosine alone (faster).",
        ),
        click.option(
            "--sentence-order/--any-order",
            default=d.sentence_order,
            show_default=True,
            help="Count the sentence match only along an alignment that keeps the sentences' order "
            "(translations and rewrites keep it; a story told again does not).",
        ),
        click.option(
            "--number-weight",
            type=float,
            default=d.number_weight,
            show_default=True,
            help="How much disagreeing numbers lower a score: it is multiplied by "
            "1 - W * (1 - the agreement of the two articles' numbers). 0 ignores numbers.",
        ),
        click.option(
            "--threshold",
            type=float,
            default=d.threshold,
            show_default=True,
            help="Score at or above which two articles are duplicates. Lower for recall "
            "(short, noisy texts), higher for precision.",
        ),
        click.option(
            "--lang",
            "languages",
            default=None,
            metavar="CODES",
            help="Compare only articles detected in these languages (ISO 639-1, comma-separated, e.g. "
            "en,it); the others are kept as they are, never compared.",
        ),
        click.option(
            "--cross-lingual/--no-cross-lingual",
            default=d.cross_lingual,
            show_default=True,
            help="Also link the same story across languages (an English translation to its original), "
            "without translating: clusters then mix languages, links.jsonl lists the links.",
        ),
        click.option(
            "--xling-threshold",
            type=float,
            default=d.xling_threshold,
            show_default="{fingerprints}, {embeddings} with embeddings".format(**XLING_THRESHOLDS),
            help="With --cross-lingual: how far a link's cosine must stand out from the nearest other "
            "candidates' (a ratio >= 1). Lower for recall, higher for precision.",
        ),
        click.option(
            "--xling-embeddings",
            type=click.Choice(XLING_EMBEDDINGS),
            default=d.xling_embeddings,
            show_default=True,
            help="With --cross-lingual: also compare articles by a multilingual embedding model (auto: "
            "when newsdedup[xling] is installed; yes: require it; no: fingerprints alone).",
        ),
        click.option(
            "--linkage",
            type=click.Choice(LINKAGES),
            default=d.linkage,
            show_default=True,
            help="Clustering inside connected components: average stops one borderline pair "
            "from chaining two stories; single keeps plain components.",
        ),
        click.option(
            "--cohesion",
            type=float,
            default=d.cohesion,
            show_default=True,
            help="With average linkage: two groups of 2+ articles are not merged when their mean cross "
            "score is below this times the lower of their own mean scores (two stories). 0: off.",
        ),
        click.option(
            "--representative",
            type=click.Choice(REPRESENTATIVES),
            default=d.representative,
            show_default=True,
            help="Which member of a cluster the deduplicated output keeps.",
        ),
        click.option(
            "--prefer-lang",
            "prefer_lang",
            default=None,
            metavar="CODES",
            help="Keep a cluster's member in these languages first (ISO 639-1, the most preferred "
            "first, e.g. en,de), chosen among them by --representative; a cluster with none of them "
            "keeps by --representative alone. For --cross-lingual clusters, which mix languages.",
        ),
    ]
    return with_options(f, options)


PARAM_NAMES = [field.name for field in dataclasses.fields(Params)]


def params_from(options: dict[str, Any]) -> Params:
    """Build Params from CLI options, turning a validation error into a usage error."""
    try:
        return Params(**{k: options.pop(k) for k in PARAM_NAMES})
    except ValueError as err:
        raise click.UsageError(str(err)) from None


def work_options(*, workers_help: str, spill_dir_help: str, in_memory_help: str) -> Any:
    """``--workers``, ``--spill-dir`` and ``--in-memory``, as ``dedup run`` and ``dedup explain``
    both take them (each command says in its help what they mean there)."""
    options = [
        click.option("--workers", type=click.IntRange(min=1), default=None, help=workers_help),
        click.option(
            "--spill-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help=spill_dir_help,
        ),
        click.option("--in-memory", is_flag=True, help=in_memory_help),
    ]
    return lambda f: with_options(f, options)


class MemorySize(click.ParamType):
    """A size such as 4G or 800M, in bytes (:func:`dedup.runtime.memory.parse_size`)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            limit = check_limit(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        assert limit is not None
        return limit


def open_inputs(
    inputs: tuple[str, ...],
    input_format: str | None,
    id_field: str,
    text_field: str,
    max_chars: int,
    *,
    recursive: bool = False,
    delimiter: str | None = None,
) -> Any:
    """The :class:`~dedup.io.read.Inputs` the input options say (``--max-chars 0``: no limit)."""
    from dedup.io.read import Inputs

    return Inputs(
        inputs,
        id_field=id_field,
        text_field=text_field,
        input_format=input_format,
        recursive=recursive,
        delimiter=delimiter,
        max_chars=max_chars or None,
    )


def _delimiter(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--delimiter``: one character; ``tab`` or ``\\t`` for a tab."""
    if value is None:
        return None
    value = "\t" if value in ("tab", "\\t") else value
    if len(value) != 1 or value in '\r\n"':
        raise click.BadParameter(
            f"one character (tab: 'tab' or '\\t'), not a quote or newline; got {value!r}"
        )
    return value


def input_options(f, format_flag: str = "--format"):
    """Options that say how to read the inputs (the format's named ``format_flag``: ``dedup align``
    keeps ``--format`` for what it writes)."""
    options = [
        click.option(
            format_flag,
            "input_format",
            type=click.Choice(["jsonl", "csv", "txt", "parquet"]),
            default=None,
            help="Read every input file (every file of a folder too) in this format (default: from each "
            "file's name: .jsonl/.ndjson, .csv/.tsv, .parquet, .txt; each optionally .gz, .bz2, .xz "
            "or .zst). parquet: pip install 'newsdedup[parquet]'.",
        ),
        click.option(
            "-r",
            "--recursive",
            is_flag=True,
            help="Read the subfolders of a folder input too (a folder's files are read in name order; "
            "hidden, _SUCCESS and .crc files never).",
        ),
        click.option(
            "--delimiter",
            default=None,
            callback=_delimiter,
            metavar="CHAR",
            help="CSV field delimiter (tab: 'tab') [default: a tab for .tsv files, else a comma].",
        ),
        click.option(
            "--id-field", default="id", show_default=True, help="JSONL/CSV/Parquet field holding the id."
        ),
        click.option(
            "--text-field",
            default="text",
            show_default=True,
            help="JSONL/CSV/Parquet field holding the text.",
        ),
        click.option(
            "--skip-bad",
            is_flag=True,
            help="Warn about bad records and go on (counted in the summary) instead of stopping.",
        ),
        click.option(
            "--max-chars",
            type=click.IntRange(min=0),
            default=MAX_CHARS,
            show_default=True,
            help="Longest article text, in characters (0: no limit); a longer one is a bad record. "
            "An article takes about 45 bytes of memory a character while it is processed.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary on stderr."),
    ]
    return with_options(f, options)


def _align_defaults() -> dict[str, Any]:
    from dedup.report.align import align

    params = inspect.signature(align).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def align_options(f):
    """The options of ``dedup.report.align.align`` that a user may want to change, one each."""
    from dedup.report.align import SIMILARITIES, UNITS

    d = _align_defaults()
    options = [
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1),
            default=d["threshold"],
            help="Similarity two blocks of sentences must exceed to be aligned [default: 0.1; 0.03 "
            "across languages].",
        ),
        click.option(
            "--attach",
            type=click.FloatRange(0, 1),
            default=d["attach"],
            show_default=True,
            help="Similarity at which a left-out sentence joins its neighbours' link.",
        ),
        click.option(
            "--move",
            type=click.FloatRange(0, 2),
            default=d["move"],
            show_default=True,
            help="Similarity at which out-of-order sentences are still paired (1 or more: never).",
        ),
        click.option(
            "--min-score",
            type=click.FloatRange(0, 1),
            default=d["min_score"],
            help="Paragraph links scoring less are dropped (two articles on one event share facts, "
            "less closely than two versions of one text) [default: 0.2; 0.05 across languages].",
        ),
        click.option(
            "--unit",
            type=click.Choice(UNITS),
            default=d["unit"],
            show_default=True,
            help="Align sentences (then paragraphs) or whole paragraphs.",
        ),
        click.option(
            "--similarity",
            type=click.Choice(SIMILARITIES),
            default=d["similarity"],
            show_default=True,
            help="TF-IDF cosine, rapidfuzz token-set ratio, their mean, or the cosine of the sentences' "
            "language-independent fingerprints; auto: fingerprint when the two texts are in different "
            "languages, else tfidf.",
        ),
    ]
    return with_options(f, options)


def emit(text: str, output: Path | None, *, color: bool = False) -> None:
    """Print ``text`` to stdout (``output`` None or ``-``), or write it atomically to ``output``; a
    failure names the file."""
    if output is None or str(output) == "-":
        click.echo(text, nl=False, color=color)
        return
    from dedup.io.atomic import atomic_write

    try:
        with atomic_write(output) as f:
            f.write(text)
    except OSError as err:
        raise click.ClickException(f"{output}: cannot write: {err.strerror or err}") from None


OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of stdout (- is stdout).",
)


def given_params(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """The detection options given on the command line (not their defaults): an existing index
    keeps its own, and only a value that contradicts them is an error."""
    given = {}
    for name in PARAM_NAMES:
        value = options.pop(name)
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            given[name] = value
    return given


def open_index(location: str, params: dict[str, Any], *, create: bool = True) -> Any:
    from dedup.index.index import Index, IndexFileError

    shown = shown_location(location)
    try:
        return Index.open(location, create=create, **params)
    except IndexFileError as err:
        raise click.ClickException(str(err).replace(location, shown)) from None
    except (ValueError, TypeError) as err:
        raise click.UsageError(str(err).replace(location, shown)) from None
