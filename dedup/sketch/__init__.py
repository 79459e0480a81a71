"""An article made small: its MinHash signature, the LSH bands that make candidate pairs, and the
packed record of what later stages need of it."""
