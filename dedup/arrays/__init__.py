"""Arrays for runs larger than memory: hashed term ids, a compact key map, growing columns that
spill to files, sparse rows past 2**31 entries. No notion of articles or duplicates here."""
