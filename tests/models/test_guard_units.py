"""The units the fact guard compares, read as the faithfulness metric reads them."""

from newsbrief.models.guard_units import range_parts, unit_value


def test_a_number_units_value_is_the_metrics_whatever_its_spelling():
    assert unit_value("1,500") == 1500 and unit_value("2.5") == 2.5
    assert unit_value("40.3 billion") == unit_value("40.3 bn") == unit_value("40,300,000,000") == 40.3e9
    assert unit_value("1.5 mln") == unit_value("1,500,000") != unit_value("1.5 billion")
    assert unit_value("0.1234567") == 0.123457  # rounded, so that spellings of one value compare equal


def test_a_range_or_score_is_made_of_its_numbers():
    assert range_parts("3-2") == ["3", "2"] and range_parts("1,500") == ["1,500"] and range_parts("2-") == ["2"]
