"""The verification of a candidate pair: TF-IDF cosine, sentence match, the numbers' agreement,
and the decision that combines them, measured in bounded stretches."""
