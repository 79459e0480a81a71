"""The HTML page around a rendering: inline CSS and JS (no external asset), a sticky header with
the legend. The scripts highlight a paragraph's counterparts on hover and pin them on click."""

from __future__ import annotations

import html


def escape_html(text: object) -> str:
    """``text`` safe in HTML content and attribute values."""
    return html.escape(str(text), quote=True)


_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--a:#b45309;--a-bg:#fff7e0;
--b:#a21caf;--b-bg:#fdf0ff;--boiler:#8c959f;--head:3.25rem}
*{box-sizing:border-box}
html{scroll-padding-top:calc(var(--head) + 3rem)}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans",sans-serif}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.top{position:sticky;top:0;z-index:20;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;
padding:.6rem 1.5rem;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);
backdrop-filter:blur(6px)}
.brand{font-weight:650;letter-spacing:-.01em}.brand span{color:var(--muted);font-weight:400}
.legend{display:flex;flex-wrap:wrap;gap:.4rem .9rem;align-items:center;font-size:12.5px;color:var(--muted);
margin-left:auto}
.sw{display:inline-block;width:.8rem;height:.8rem;border-radius:3px;vertical-align:-1px;margin-right:.3rem}
main{max-width:1500px;margin:0 auto;padding:1rem 1.5rem 5rem}
h1{font-size:1.5rem;margin:.6rem 0 .2rem}h2{font-size:1.2rem;margin:0}h3{font-size:1rem;margin:0}
.muted{color:var(--muted)}
.note{background:#fff8c5;border:1px solid #eed888;border-radius:6px;padding:.45rem .8rem;font-size:14px}
table.index{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);
border-radius:8px;overflow:hidden;font-size:14px;margin:1rem 0 2rem}
.index th,.index td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid var(--line);
vertical-align:top}
.index th{background:#f0f3f6;font-weight:600;font-size:13px}.index td.num{text-align:right;width:5rem}
.title-line{color:var(--muted);font-size:13px}.index td.kept{width:45%}
.cluster{margin:2.5rem 0}.cluster-head{padding:0 .2rem}.cluster-head p{margin:.2rem 0}
.pair{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:1rem 0 1.8rem;
box-shadow:0 1px 2px rgba(31,35,40,.06)}
.pair-head{padding:.8rem 1rem .6rem;border-bottom:1px solid var(--line)}
.pair-title{font-weight:600;word-break:break-all}.arrow{color:var(--muted);margin:0 .3rem}
.tag{display:inline-block;min-width:1.4rem;text-align:center;font-size:12px;font-weight:700;color:#fff;
background:#424a53;border-radius:4px;padding:0 .3rem}
.stats{display:flex;flex-wrap:wrap;gap:.3rem 1.1rem;margin-top:.4rem;font-size:13px;color:var(--muted)}
.stats b{color:var(--fg)}
.grid,.row{display:grid;grid-template-columns:minmax(0,1fr) 7.5rem minmax(0,1fr)}
.grid{position:sticky;top:var(--head);z-index:10;background:#f0f3f6;border-bottom:1px solid var(--line);
font-size:13px;font-weight:600}
.colhead{padding:.4rem 1rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.colhead.gut{text-align:center;color:var(--muted);font-weight:400}
.row{border-bottom:1px solid #eaeef2}.row:last-child{border-bottom:0}
.side{padding:.5rem .6rem;display:flex;flex-direction:column;gap:.5rem;min-width:0}
.gut{display:flex;flex-direction:column;align-items:center;gap:.4rem;padding:.6rem .2rem;
background:#fafbfc;border-left:1px solid #eaeef2;border-right:1px solid #eaeef2}
.para{border-radius:6px;padding:.45rem .75rem .5rem 1.1rem;transition:background .12s,outline-color .12s;
outline:2px solid transparent;outline-offset:-2px}
.para .meta{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center;font-size:12px;margin-bottom:.15rem}
.para .num{font-weight:700;color:var(--muted);margin-right:.15rem}
.para .text{margin:0;overflow-wrap:anywhere}
.para.linked{cursor:pointer}
.para.linked.hl,.para.linked.pin{background:var(--t);outline-color:var(--c)}
.para.only{background:repeating-linear-gradient(135deg,transparent 0 9px,rgba(0,0,0,.018) 9px 18px)}
.para.only[data-side=a]{box-shadow:inset 4px 0 0 var(--a);background-color:var(--a-bg)}
.para.only[data-side=b]{box-shadow:inset 4px 0 0 var(--b);background-color:var(--b-bg)}
.para.boilerplate{color:var(--boiler);background:#f6f8fa;box-shadow:inset 4px 0 0 #d1d9e0;font-size:13.5px}
.chip{display:inline-block;border-radius:999px;padding:0 .5rem;font-weight:600;color:var(--c);
border:1px solid var(--c);background:#fff}
.badge{display:inline-block;border-radius:999px;padding:0 .5rem;font-weight:600;font-size:12px}
.badge.only-a{color:var(--a);background:var(--a-bg);border:1px solid var(--a)}
.badge.only-b{color:var(--b);background:var(--b-bg);border:1px solid var(--b)}
.badge.boiler{color:#59636e;background:#eaeef2;border:1px solid #d1d9e0}
.link-chip{font:inherit;display:flex;flex-direction:column;align-items:center;width:6.6rem;cursor:pointer;
border:1px solid var(--c);border-left-width:5px;border-radius:6px;background:#fff;padding:.2rem .3rem;
color:var(--fg)}
.link-chip:hover,.link-chip.hl,.link-chip.pin{background:var(--t)}
.link-chip .lt{font-size:12px;font-weight:700;color:var(--c)}
.link-chip .sc{font-size:13px;font-variant-numeric:tabular-nums}
.link-chip .moved{font-size:11px;color:var(--muted)}
.s.unaligned{background:#fff1b8;border-bottom:2px dotted #d97706}
.s.shl{background:#dbeafe;border-radius:3px;box-shadow:0 0 0 2px #dbeafe}
.para:focus-visible,.link-chip:focus-visible{outline:2px solid #0969da}
@media (max-width:900px){.grid,.row{grid-template-columns:minmax(0,1fr) 4.5rem minmax(0,1fr)}
.link-chip{width:4.2rem}main{padding:1rem .5rem}}
@media print{.top,.grid{position:static}}
"""

_JS = """
(function () {
  var root = document.documentElement, top = document.querySelector('.top');
  function fit() { root.style.setProperty('--head', top.offsetHeight + 'px'); }
  fit(); window.addEventListener('resize', fit);
  function clear(scope, cls) {
    scope.querySelectorAll('.' + cls).forEach(function (el) { el.classList.remove(cls); });
  }
  function mark(el, cls) {
    var pair = el.closest('.pair');
    if (!pair) return;
    clear(pair, cls);
    el.getAttribute('data-link').split(' ').forEach(function (n) {
      if (!n) return;
      pair.querySelectorAll('[data-link~="' + n + '"]').forEach(function (x) { x.classList.add(cls); });
    });
  }
  function sentence(el, on) {
    var pair = el.closest('.pair');
    if (!pair) return;
    clear(pair, 'shl');
    if (on) pair.querySelectorAll('[data-sl="' + el.getAttribute('data-sl') + '"]')
      .forEach(function (x) { x.classList.add('shl'); });
  }
  document.addEventListener('mouseover', function (e) {
    var s = e.target.closest('[data-sl]');
    if (s) sentence(s, true);
    var el = e.target.closest('[data-link]');
    if (el) mark(el, 'hl');
  });
  document.addEventListener('mouseout', function (e) {
    var s = e.target.closest('[data-sl]');
    if (s) sentence(s, false);
    var el = e.target.closest('[data-link]');
    if (el && !(e.relatedTarget && el.contains(e.relatedTarget))) clear(el.closest('.pair'), 'hl');
  });
  document.addEventListener('focusin', function (e) {
    var el = e.target.closest('[data-link]');
    if (el) mark(el, 'hl');
  });
  document.addEventListener('click', function (e) {
    var el = e.target.closest('[data-link]');
    if (!el) return;
    var pinned = el.classList.contains('pin');
    clear(el.closest('.pair'), 'pin');
    if (!pinned) mark(el, 'pin');
  });
})();
"""


COMPACT_LEGEND = (
    '<span><span class="badge only-b">adds</span> said only in the copy</span>'
    '<span><span class="badge only-a">drops</span> of the kept article, not in the copy</span>'
    "<span>¶ from 1</span>"
)
"""The legend of a report in the compact view (what each copy changes)."""


def page(
    title: str, subtitle: str, body: str, *, css: str = "", js: str = "", legend: str | None = None
) -> str:
    """The whole document: inline CSS (and ``css``), a sticky header with the legend (the
    side-by-side one unless given), ``body``, inline JS (and ``js``)."""
    legend = (
        legend
        if legend is not None
        else (
            '<span><span class="sw" style="background:'
            'linear-gradient(90deg,#2563eb 33%,#059669 33% 66%,#ea580c 66%)"></span>'
            "linked (one colour a link)</span>"
            '<span><span class="sw" style="background:var(--a)"></span>only in A</span>'
            '<span><span class="sw" style="background:var(--b)"></span>only in B</span>'
            '<span><span class="sw" style="background:#d1d9e0"></span>boilerplate</span>'
            '<span><span class="sw" style="background:#fff1b8;border-bottom:2px dotted #d97706"></span>'
            "sentence with no counterpart</span>"
            "<span>hover or click a paragraph to see its counterparts · ¶ from 1</span>"
        )
    )
    title, subtitle = escape_html(title), escape_html(subtitle)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="dedup"><title>{title}</title><style>{_CSS}{css}</style></head>'
        f'<body><header class="top"><div class="brand">{title} <span>· {subtitle}</span>'
        f'</div><div class="legend">{legend}</div></header><main>{body}</main>'
        f"<script>{_JS}{js}</script></body></html>\n"
    )
