"""What is read in a text: normalised tokens and shingles, stop words, the language, the numbers
it states, its paragraphs and sentences, and its language-independent fingerprint and
embedding."""
