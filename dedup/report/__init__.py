"""Which paragraphs of two variants match: the aligner, the boilerplate it sets aside, the
report of a run's clusters, and its renderings as text, Markdown and HTML."""
