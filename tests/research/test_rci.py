import math

import pytest

from app.research.outcomes import Observation, OutcomeError, Reliability, cronbach_alpha
from app.research.rci import (
    IMPROVED,
    UNCHANGED,
    WORSENED,
    classify,
    in_plain_words,
    reliable_change,
    reliable_changes,
)

PRE = {"a": 40.0, "b": 50.0, "c": 60.0}
POST = {"a": 52.0, "b": 39.0, "c": 45.0}


def test_rci_matches_the_hand_computed_jacobson_truax_example() -> None:
    """Worked by hand with Jacobson & Truax's (1991) formula.

    Pre values 40, 50, 60: mean 50, squared deviations 100 + 0 + 100 = 200,
    SD1 = sqrt(200 / 2) = 10. Reliability r = 0.84.
    SE    = SD1 * sqrt(1 - r) = 10 * sqrt(0.16) = 4
    Sdiff = sqrt(2 * SE^2) = sqrt(32) = 5.656854
    a: 52 - 40 = +12 -> RCI = 12 / 5.656854 = 2.121320 > 1.96: reliably improved (higher better)
    b: 39 - 50 = -11 -> RCI = -11 / 5.656854 = -1.944544, |RCI| <= 1.96: no reliable change
    c: 45 - 60 = -15 -> RCI = -15 / 5.656854 = -2.651650 < -1.96: reliably worse
    The smallest reliable change is 1.96 * 5.656854 = 11.087434 points.
    """
    found = reliable_change("hope.total", PRE, POST, reliability=0.84, better="higher")

    assert found.sd_pre == pytest.approx(10.0)
    assert found.se == pytest.approx(4.0)
    assert found.s_diff == pytest.approx(math.sqrt(32))
    assert found.rci == pytest.approx({"a": 2.121320, "b": -1.944544, "c": -2.651650},
                                      abs=1e-6)
    assert found.classes == {"a": IMPROVED, "b": UNCHANGED, "c": WORSENED}
    assert (found.improved, found.unchanged, found.worsened) == (1, 1, 1)
    assert found.threshold == pytest.approx(11.087434, abs=1e-6)


def test_lower_is_better_turns_the_direction_round() -> None:
    found = reliable_change("stress.total", PRE, POST, reliability=0.84, better="lower")

    assert found.classes == {"a": WORSENED, "b": UNCHANGED, "c": IMPROVED}


def test_participants_missing_a_wave_have_no_rci_but_their_pre_value_sets_the_sd() -> None:
    pre = {**PRE, "d": None, "e": 50.0}
    post = {**POST, "d": 60.0}

    found = reliable_change("hope.total", pre, post, reliability=0.84, better="higher")

    assert set(found.rci) == {"a", "b", "c"}
    assert found.sd_pre == pytest.approx(math.sqrt(200 / 3))


def test_reliability_can_be_the_studys_own_cronbach_alpha() -> None:
    items = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]]
    alpha = cronbach_alpha(items)
    assert alpha is not None

    found = reliable_change("hope.total", PRE, POST, reliability=alpha, better="higher")

    assert found.se == pytest.approx(10 * math.sqrt(1 - alpha))


@pytest.mark.parametrize("reliability", [1.0, -0.1, 1.5])
def test_a_reliability_outside_0_to_1_is_refused_with_the_variable_named(
        reliability: float) -> None:
    with pytest.raises(OutcomeError, match=r"hope\.total: reliability"):
        reliable_change("hope.total", PRE, POST, reliability=reliability, better="higher")


def test_no_spread_at_the_first_wave_is_refused() -> None:
    with pytest.raises(OutcomeError, match="no spread"):
        reliable_change("hope.total", {"a": 3.0, "b": 3.0}, {"a": 4.0, "b": 2.0},
                        reliability=0.8, better="higher")


def test_exactly_the_critical_value_is_not_reliable_and_words_are_plain() -> None:
    assert classify(1.96, "higher") == UNCHANGED
    assert classify(1.97, None) == "reliably changed"
    assert "usual noise" in in_plain_words(IMPROVED)


def test_a_study_s_variables_take_their_instruments_baseline_alpha() -> None:
    observations = [Observation(p, wave, "hope.total", value)
                    for wave, values in (("pre", PRE), ("post", POST))
                    for p, value in values.items()]
    observations.append(Observation("a", "pre", "calm.total", 3.0))
    found = [Reliability("hope", "pre", 30, 6, 0.84), Reliability("hope", "post", 30, 6, 0.5)]

    changes = reliable_changes(observations, found, better={"hope.total": "higher"},
                               labels={"hope.total": "Hope"})

    assert [(c.variable, c.label, c.improved, c.unchanged, c.worsened) for c in changes] == [
        ("hope.total", "Hope", 1, 1, 1)]
    assert changes[0].source == "Cronbach's alpha at pre (n = 30)"


def test_the_html_report_counts_reliable_change_per_variable() -> None:
    from app.research.long_table import LongTable
    from app.research.outcomes import analyse
    from app.research.outcomes_cli import report_html

    rows = [(p, wave, "hope.total", value)
            for wave, values in (("pre", PRE), ("post", POST)) for p, value in values.items()]
    table = LongTable.of_rows(*(list(column) for column in zip(*rows, strict=True)))
    report = analyse(table, better={"hope.total": "higher"}, labels={"hope.total": "Hope"})

    page = report_html(report, source="scores.csv", observations=table,
                       reliability=[Reliability("hope", "pre", 30, 6, 0.84)])

    section = " ".join(page.split('id="outcomes-reliable-change"', 1)[1].split())
    assert "larger than the measure's usual noise" in section
    assert '<th scope="row">Hope</th> <td>1</td> <td>1</td> <td>1</td>' in section
    assert "11.09" in section
    assert "Cronbach&#39;s alpha at pre (n = 30)" in section


def test_without_item_answers_the_html_report_has_no_reliable_change_section() -> None:
    from app.research.long_table import LongTable
    from app.research.outcomes import analyse
    from app.research.outcomes_cli import report_html

    table = LongTable.of_rows(["a", "a"], ["pre", "post"], ["hope.total"] * 2, [1.0, 2.0])
    page = report_html(analyse(table), source="scores.csv", observations=table)

    assert "outcomes-reliable-change" not in page


def test_the_outcome_table_shows_the_result_next_to_the_variable() -> None:
    """At 1280 px the wide table scrolled the Result column out of sight; it comes second."""
    from app.research.long_table import LongTable
    from app.research.outcomes import analyse
    from app.research.outcomes_cli import report_html

    rows = [(p, wave, "hope.total", value)
            for wave, values in (("pre", PRE), ("post", POST)) for p, value in values.items()]
    table = LongTable.of_rows(*(list(column) for column in zip(*rows, strict=True)))
    page = " ".join(report_html(analyse(table), source="s.csv", observations=table).split())

    head = page.split('class="outcomes-table"', 1)[1].split("</thead>", 1)[0]
    assert ('<th scope="col">Variable</th> <th scope="col">Result</th> '
            '<th scope="col">n</th>') in head
    assert "</th> <td>no significant change</td> <td>3</td>" in page


def test_a_reliability_declared_in_the_instrument_file_is_used_without_item_answers(
        tmp_path) -> None:
    from app.research.rci import declared_reliabilities
    from app.surveys.definitions import load_instrument
    from tests.surveys.test_definitions import VALID, write

    text = VALID.replace("    higher_is_better: true\n",
                         "    higher_is_better: true\n    reliability: 0.84\n", 1)
    declared = declared_reliabilities([load_instrument(write(tmp_path, text))])
    observations = [Observation(p, wave, "sample.total", value)
                    for wave, values in (("pre", PRE), ("post", POST))
                    for p, value in values.items()]

    [change] = reliable_changes(observations, [], better={}, declared=declared)

    assert declared == {"sample.total": 0.84}
    assert change.source == "declared in the instrument file"
    assert (change.changed, change.unchanged) == (2, 1)
