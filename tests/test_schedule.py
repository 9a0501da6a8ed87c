import pytest

from sim.engine.schedule import Schedule, initial_value


def test_value_holds_from_its_period_on():
    s = Schedule.from_mapping({0: 0.08, 12: 0.0, 20: 0.05})
    assert [s.value_at(t) for t in (0, 11, 12, 19, 20, 99)] == [0.08, 0.08, 0.0, 0.0, 0.05, 0.05]
    assert s.initial == 0.08 and initial_value(s) == 0.08 and initial_value(0.3) == 0.3


def test_keys_from_the_command_line_are_strings():
    assert Schedule.from_mapping({"0": "0.1", "4": 0}).as_dict() == {0: 0.1, 4: 0.0}


@pytest.mark.parametrize("points", [{}, {3: 0.1}, {0: 0.1, "x": 0.2}])
def test_invalid_schedules_are_rejected(points):
    with pytest.raises(ValueError):
        Schedule.from_mapping(points)
