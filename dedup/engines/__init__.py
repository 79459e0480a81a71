"""The engines that run the whole path over a batch: local (one machine, spilling to disk when
asked) and Spark (a cluster; ``pip install 'newsdedup[spark]'``). Both return a
:class:`dedup.result.Result` with the same pairs and clusters."""
