"""Articles in and results out: the article type, the readers (JSONL, CSV, Parquet, text
folders, gzipped, stdin), the writers, and outputs that appear whole or not at all."""
