"""dedup: find rewrites and machine-translation variants of news articles."""
