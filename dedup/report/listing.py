"""The run report's index of clusters: one row a cluster with its size, its lowest score and the
paragraphs its copies change, sortable and filterable in the page by a small plain script (no
external resource). It opens sorted by lowest score first, where a reviewer looks.

Each row is a ``<tr>`` with ``data-cluster``, ``data-size``, ``data-score`` (empty if unknown)
and ``data-changes``; the script reorders and hides rows, and says how many are shown.
"""

from __future__ import annotations

from dedup.report.page import escape_html as _e
from dedup.report.views import ClusterAlignments

SORTS = {
    "score": "lowest score first",
    "size": "largest first",
    "changes": "most changes first",
    "cluster": "cluster number",
}
"""The orders the index offers (the first is how it opens)."""


def _sort_key(cl: ClusterAlignments) -> tuple[float, int]:
    return (cl.lowest_score if cl.lowest_score is not None else float("inf"), cl.cluster)


def index_table(clusters: list[ClusterAlignments], anchors: list[str], copy_ids: list[list[str]]) -> str:
    """The controls and the table of the clusters shown, rows ordered by lowest score first.

    Args:
        anchors: each cluster's section id; ``copy_ids``: the ids of each cluster's copies.
    """
    rows = []
    order = sorted(range(len(clusters)), key=lambda k: _sort_key(clusters[k]))
    for k in order:
        cl, anchor = clusters[k], anchors[k]
        score = "" if cl.lowest_score is None else f"{cl.lowest_score:.4f}"
        shown = "" if cl.lowest_score is None else f"{cl.lowest_score:.2f}"
        copies = ", ".join(
            f'<a href="#{_e(cid)}">{_e(p.b)}</a>' for p, cid in zip(cl.pairs, copy_ids[k], strict=True)
        )
        if cl.left_out:
            copies += f' <span class="muted">and {cl.left_out} more</span>'
        rows.append(
            f'<tr data-cluster="{cl.cluster}" data-size="{len(cl.members)}" data-score="{score}" '
            f'data-changes="{cl.changes}"><td class="num"><a href="#{_e(anchor)}">{cl.cluster}</a></td>'
            f'<td class="num">{len(cl.members)}</td><td class="num">{shown}</td>'
            f'<td class="num">{cl.changes}</td>'
            f'<td class="kept"><a href="#{_e(anchor)}" class="rep">{_e(cl.representative)}</a>'
            f'<div class="title-line">{_e(cl.title)}</div></td><td class="copies">{copies}</td></tr>'
        )
    options = "".join(f'<option value="{k}">{v}</option>' for k, v in SORTS.items())
    heads = (
        ("cluster", "cluster"),
        ("size", "articles"),
        ("score", "lowest score"),
        ("changes", "¶ changed"),
    )
    th = "".join(
        f'<th class="num"><button type="button" data-sort="{key}" title="sort: {SORTS[key]}">{label}'
        "</button></th>"
        for key, label in heads
    )
    controls = (
        '<form class="controls" id="controls" onsubmit="return false">'
        f'<label>sort <select id="sort">{options}</select></label>'
        '<label>at least <input id="min-size" type="number" min="2" step="1" value="2"> articles</label>'
        '<label>lowest score at most <input id="max-score" type="number" min="0" max="1" step="0.01" '
        'placeholder="any"></label>'
        '<label>find <input id="find" type="search" placeholder="id or title"></label>'
        f'<span id="count" class="muted">{len(clusters):,} of {len(clusters):,} clusters</span></form>'
    )
    return (
        f'{controls}<table class="index" id="clusters"><thead><tr>{th}<th>kept (representative)</th>'
        f"<th>copies</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


CSS = """
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;align-items:center;font-size:14px;margin:1rem 0 .4rem}
.controls input[type=number]{width:5rem}.controls input,.controls select{font:inherit;padding:.1rem .3rem}
.index th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
.index th[aria-sort] button::after{content:" ▲";font-size:10px}
.index th[aria-sort=descending] button::after{content:" ▼"}
.index td.copies{font-size:13px}
"""

JS = """
(function () {
  var table = document.getElementById('clusters');
  if (!table) return;
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var sort = document.getElementById('sort'), minSize = document.getElementById('min-size');
  var maxScore = document.getElementById('max-score'), find = document.getElementById('find');
  var count = document.getElementById('count');
  function num(row, key, missing) {
    var v = row.getAttribute('data-' + key);
    return v === null || v === '' ? missing : parseFloat(v);
  }
  var keys = {
    score: function (r) { return num(r, 'score', Infinity); },
    size: function (r) { return -num(r, 'size', 0); },
    changes: function (r) { return -num(r, 'changes', 0); },
    cluster: function (r) { return num(r, 'cluster', 0); }
  };
  function apply() {
    var key = keys[sort.value] || keys.score;
    var lo = parseInt(minSize.value, 10) || 0;
    var hi = maxScore.value === '' ? null : parseFloat(maxScore.value);
    var q = find.value.trim().toLowerCase(), shown = 0;
    rows.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      return x === y ? num(a, 'cluster', 0) - num(b, 'cluster', 0) : (x < y ? -1 : 1);
    }).forEach(function (r) {
      var ok = num(r, 'size', 0) >= lo && (hi === null || isNaN(hi) || num(r, 'score', Infinity) <= hi) &&
        (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
      body.appendChild(r);
    });
    table.querySelectorAll('th').forEach(function (th) {
      var b = th.querySelector('button');
      if (b && b.getAttribute('data-sort') === sort.value) {
        var up = sort.value === 'score' || sort.value === 'cluster';
        th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      } else th.removeAttribute('aria-sort');
    });
    count.textContent = shown.toLocaleString('en') + ' of ' + rows.length.toLocaleString('en') + ' clusters';
  }
  sort.addEventListener('change', apply);
  [minSize, maxScore, find].forEach(function (el) { el.addEventListener('input', apply); });
  table.querySelectorAll('th button[data-sort]').forEach(function (b) {
    b.addEventListener('click', function () { sort.value = b.getAttribute('data-sort'); apply(); });
  });
  apply();
})();
"""
