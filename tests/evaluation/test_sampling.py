"""`--max-examples`: a seeded sample stratified by topic, not the file's first rows."""

from collections import Counter

from newsbrief.evaluation.sampling import describe, stratified_sample

# A file sorted by topic, as BBC's is: its first 100 rows are all business.
SORTED_BY_TOPIC = [["business"]] * 100 + [["sport"]] * 80 + [["politics"]] * 60 + [["tech"]] * 40 + [["film"]] * 20


def test_a_small_sample_meets_every_topic_in_proportion():
    chosen = stratified_sample(SORTED_BY_TOPIC, 30, seed=0)
    assert len(chosen) == 30 == len(set(chosen))
    counts = Counter(SORTED_BY_TOPIC[i][0] for i in chosen)
    assert counts == {"business": 10, "sport": 8, "politics": 6, "tech": 4, "film": 2}


def test_fewer_examples_than_topics_take_the_rarest_topics_first():
    chosen = stratified_sample(SORTED_BY_TOPIC, 2, seed=0)
    assert {SORTED_BY_TOPIC[i][0] for i in chosen} == {"film", "tech"}


def test_the_sample_is_seeded():
    assert stratified_sample(SORTED_BY_TOPIC, 30, seed=0) == stratified_sample(SORTED_BY_TOPIC, 30, seed=0)
    assert stratified_sample(SORTED_BY_TOPIC, 30, seed=0) != stratified_sample(SORTED_BY_TOPIC, 30, seed=1)


def test_multi_label_examples_count_under_their_rarest_topic_and_untopical_ones_too():
    topics = [["business", "film"]] * 3 + [["business"]] * 50 + [[]] * 10
    chosen = stratified_sample(topics, 3, seed=0)
    assert sorted(len(topics[i]) for i in chosen) == [0, 1, 2]


def test_a_sample_as_large_as_the_split_is_the_split():
    assert stratified_sample([["a"], ["b"]], 5, seed=0) == [0, 1]
    assert describe(None, 7, 0, True) == describe(9, 7, 0, True) == "the whole split (7 examples)"
    assert describe(3, 7, 2, True) == "a random sample of 3 of 7 examples, seed 2, stratified by each example's rarest topic"
