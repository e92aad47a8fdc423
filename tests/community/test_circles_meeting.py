"""The suggested meeting time: an evening hour for as many of a circle as possible."""

from app.community.circle_threads import EVENING, link_problem, suggest_meeting


def _evening_for(utc_hour: float, offset: float) -> bool:
    return EVENING[0] <= (utc_hour + offset) % 24 <= EVENING[1]


def test_one_time_zone_meets_in_its_evening() -> None:
    meeting = suggest_meeting([0.0, 0.0, 0.0, 0.0], mine=0.0)
    assert meeting is not None
    assert (meeting.fits, meeting.of) == (4, 4)
    assert 18 <= meeting.utc_hour <= 21 and meeting.local_hour == meeting.utc_hour


def test_the_time_fits_the_most_members_and_says_how_many() -> None:
    offsets = [-5.0, -4.0, 1.0, 5.5]  # New York, Halifax, Lagos, Delhi
    meeting = suggest_meeting(offsets, mine=5.5)
    assert meeting is not None
    best = max(sum(_evening_for(step / 2, offset) for offset in offsets) for step in range(48))
    assert meeting.fits == best
    assert meeting.fits == sum(_evening_for(meeting.utc_hour, offset) for offset in offsets)
    assert meeting.local_hour == (meeting.utc_hour + 5.5) % 24


def test_members_a_day_apart_are_not_all_in_their_evening() -> None:
    meeting = suggest_meeting([0.0, 12.0], mine=12.0)
    assert meeting is not None and (meeting.fits, meeting.of) == (1, 2)


def test_no_members_no_suggestion() -> None:
    assert suggest_meeting([], mine=0.0) is None


def test_only_web_addresses_are_meeting_links() -> None:
    assert link_problem("https://meet.example.org/abc") is None
    assert link_problem("") is None  # clearing the link
    for bad in ("javascript:alert(1)", "data:text/html,hi", "meet.example.org", "https://"):
        assert link_problem(bad), bad
