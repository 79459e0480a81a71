"""How a run lives: its memory limit, its processes (they die together), its progress bars, and
the optional extras it may need (:mod:`dedup.runtime.extras`: one line naming the install command),
and the packages' names loaded on first use (:mod:`dedup.runtime.lazy`)."""
