"""Boilerplate: site furniture by known phrases, and paragraphs that recur across stories."""

import pytest

from dedup.report.boilerplate import Boilerplate, paragraph_key


@pytest.mark.parametrize(
    "paragraph",
    [
        "Leave a Comment",
        "Leave a reply",
        "Source link",
        ">> Read also: How Russia Diverts Its Trade Flows and Outsmarts the West",
        "More: China and Russia are fighting for a pact against the West",
        "Related articles:",
        "Share this article",
        "SHARE",
        "Follow us on Telegram",
        "Subscribe to our newsletter",
        "Sign up for the morning briefing",
        "Click here to read the full statement",
        "Advertisement",
        "Tags: China, Russia, Ukraine",
        "© 2023 Reuters. All rights reserved.",
        "Copyright Handelsblatt",
        "12 comments",
    ],
)
def test_known_furniture_is_boilerplate(paragraph):
    assert Boilerplate()(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "More than 100 people died in the earthquake on Monday.",
        "Source: the ministry said the figures would be revised on Friday, as more reports come in.",
        "Readers will remember the 1988 earthquake.",
        "Share prices fell by three percent after the announcement.",
        "Subscribers to the service were refunded in full after a long dispute with the regulator.",
        "Xi visits Putin: “Mission for peace”. But for the US, any truce proposal is “unacceptable”",
        # long paragraphs are never matched by pattern, whatever their start
        "Read more about it: " + "the minister explained the plan in detail " * 4,
    ],
)
def test_content_is_not_boilerplate(paragraph):
    assert not Boilerplate()(paragraph)


FOOTER = "Not all news on the site expresses the point of view of the site."


def test_a_paragraph_recurring_across_three_stories_is_learned():
    corpus = [f"Story {k} begins here.\n\n{FOOTER}" for k in range(3)]
    learned = Boilerplate.learn(corpus)
    assert learned(FOOTER) and learned("  not ALL news on the site expresses the point of view of the site ")
    assert not learned("Story 1 begins here.")
    assert not Boilerplate()(FOOTER)  # no pattern knows it


def test_copies_of_one_story_count_once():
    copies = [("story-1", f"The same wire text.\n\n{FOOTER}")] * 5
    learned = Boilerplate.learn([*copies, ("story-2", FOOTER)])
    assert not learned(FOOTER) and not learned("The same wire text.")
    assert Boilerplate.learn([*copies, ("story-2", FOOTER), ("story-3", FOOTER)])(FOOTER)


def test_learning_keeps_the_patterns_unless_told_otherwise():
    assert Boilerplate.learn(["a"])("Leave a Comment")
    assert not Boilerplate.learn(["a"], patterns=())("Leave a Comment")


def test_long_paragraphs_are_not_counted():
    long = "word " * 80
    assert not Boilerplate.learn([long] * 4)(long)
    assert Boilerplate.learn([long] * 4, max_words=100)(long)


def test_paragraph_key_normalises_case_and_punctuation():
    assert paragraph_key("Leave a  COMMENT!") == paragraph_key("leave a comment") == "leave a comment"


@pytest.mark.parametrize(("kwargs", "message"), [({"min_docs": 1}, "min_docs")])
def test_bad_learning_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Boilerplate.learn(["a"], **kwargs)


def test_bad_max_words():
    with pytest.raises(ValueError, match="max_words"):
        Boilerplate(max_words=0)


def test_a_paragraph_whose_every_line_is_furniture_is_boilerplate():
    assert Boilerplate()("Share this article\nLeave a Comment\nSource link")
    assert not Boilerplate()("Share this article\nThe minister resigned on Friday after the vote.")


def test_recurring_lines_are_learned_whatever_mix_they_come_in():
    lines = ["Our newsroom never sleeps.", "Tips: write to the desk.", "Printed on recycled pixels."]
    corpus = [
        f"Story {k} text.\n\n{lines[k % 3]}\n{lines[(k + 1) % 3]}" for k in range(3)
    ]  # each pair of lines once, each line in two or three stories
    learned = Boilerplate.learn(corpus, min_docs=2, patterns=())
    assert all(learned(line) for line in lines)
    assert learned(f"{lines[2]}\n{lines[0]}")  # a mix never seen as a whole
    assert not learned(f"{lines[0]}\nStory 1 text.")
