"""The member's walk through the site: task list, every step kind, resume and autosave."""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.clock import now
from app.journeys.models import (
    Commitment,
    Enrolment,
    EnrolmentStatus,
    FeedbackRequest,
    FeedbackStatus,
    StatementVersion,
    StepStatus,
)
from app.settings import Settings
from tests.browsing import Browser
from tests.jobs import delivered
from tests.journeys.walking import (
    WALK,
    StepPage,
    another_browser,
    answer,
    answer_wave,
    enrolment_of,
    open_step,
    post_step,
    save_step,
    sign_in,
    start,
    user_of,
    walk_to,
)

TASK = re.compile(r'<li class="task task-\w+">\s*(?:<a href="[^"]*">|<span>)([^<]+)</(?:a|span)>'
                  r'\s*<span class="badge status-\w+">([^<]+)</span>')


def task_list(html: str) -> dict[str, str]:
    """Each step's title on the task list, with the status it shows."""
    return dict(TASK.findall(html))


def statements(db: Session, enrolment: Enrolment) -> list[str]:
    db.expire_all()
    return list(db.exec(select(StatementVersion.text)
                        .where(StatementVersion.enrolment_id == enrolment.id)
                        .order_by(StatementVersion.number)))  # type: ignore[arg-type]


# Starting, the task list, one journey at a time, leaving ----------------------------------


def test_member_without_a_journey_is_offered_the_journeys(browser: Browser, db: Session) -> None:
    sign_in(browser, db)
    page = browser.get("/journey")
    assert page.status_code == 200
    assert "Start your journey" in page.text
    assert "Start “A walk through every step kind”" in page.text


def test_starting_a_journey_enrols_the_member(browser: Browser, db: Session) -> None:
    user = sign_in(browser, db)
    response = browser.submit("/journey/start", {"journey": "walk"}, page="/journey")
    assert response.status_code == 303
    assert response.headers["location"] == "/journey"
    enrolment = enrolment_of(db, user)
    assert enrolment.status == EnrolmentStatus.active
    assert "Your journey has begun" in browser.get("/journey").text


def test_task_list_shows_phases_stages_and_only_the_first_step_open(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    page = browser.get("/journey").text
    for heading in ("Discover", "Refine", "Express", "Reflect", "Connect", "Choose", "Act"):
        assert f">{heading}" in page
    assert "0 of 13 steps done (0%)" in page
    tasks = task_list(page)
    assert len(tasks) == 13
    assert tasks["Check-in"] == "not started"
    assert set(list(tasks.values())[1:]) == {"locked"}
    assert '<a href="/journey/steps/baseline">' in page
    assert '<a href="/journey/steps/welcome">' not in page
    assert "Begin: Check-in" in page


def test_task_list_shows_done_in_progress_and_locked_and_overall_progress(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    walk_to(browser, "moments")
    save_step(browser, "moments", action="save")
    page = browser.get("/journey").text
    tasks = task_list(page)
    assert (tasks["Check-in"], tasks["Welcome"]) == ("done", "done")
    assert tasks["Moments"] == "in progress"
    assert tasks["Values"] == tasks["First steps"] == "locked"
    assert "2 of 13 steps done (15%)" in page
    assert '<progress value="2" max="13"' in page
    assert "Continue where you left off: Moments" in page


def test_the_purpose_journey_shows_its_steps_under_the_six_guideposts(
    browser: Browser, db: Session
) -> None:
    start(browser, db, journey="purpose")
    page = browser.get("/journey").text
    assert "0 of 21 steps done (0%)" in page
    badges = re.findall(r'<small class="badge">(\w+)</small>', page)
    assert badges == ["Reflect", "Connect", "Explore", "Choose", "Repack", "Act"]
    assert len(task_list(page)) == 21


def test_starting_a_second_journey_is_refused_and_changes_nothing(
    browser: Browser, db: Session
) -> None:
    first = start(browser, db)
    response = browser.submit("/journey/start", {"journey": "purpose"}, page="/journey")
    assert response.status_code == 409
    assert "You are on “A walk through every step kind” now" in response.text
    assert "one journey at a time" in response.text
    db.expire_all()
    assert list(db.exec(select(Enrolment).where(Enrolment.user_id == first.user_id))) == [first]
    assert "A walk through every step kind" in browser.get("/journey").text


def test_starting_an_unknown_journey_is_not_found(browser: Browser, db: Session) -> None:
    user = sign_in(browser, db)
    response = browser.submit("/journey/start", {"journey": "nowhere"}, page="/journey")
    assert response.status_code == 404
    db.expire_all()
    assert db.exec(select(Enrolment).where(Enrolment.user_id == user.id)).first() is None


def test_leaving_keeps_the_answers_and_lets_the_member_start_again(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    response = browser.submit("/journey/leave", page="/journey")
    assert response.status_code == 303
    assert "What you wrote is kept" in browser.get("/journey").text
    db.expire_all()
    left = db.get(Enrolment, enrolment.id)
    assert left is not None and left.status == EnrolmentStatus.left
    kept = answer(db, enrolment, "moments")
    assert kept is not None and kept.data["responses"]["alive"] == WALK["moments"]["prompt-alive"]
    assert "Start your journey" in browser.get("/journey").text
    assert browser.get("/purpose").status_code == 200  # what was written stays readable
    again = browser.submit("/journey/start", {"journey": "walk"}, page="/journey")
    assert again.status_code == 303
    assert enrolment_of(db, user_of(db, left)).id != enrolment.id


# The pre wave gates the first steps ------------------------------------------------------


def test_steps_after_the_pre_wave_stay_locked_until_it_is_sent(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    locked = browser.get("/journey/steps/welcome")
    assert locked.status_code == 409
    assert "This step is not open yet" in locked.text
    assert 'href="/journey/steps/baseline"' in locked.text
    too_soon = save_step(browser, "baseline")
    assert too_soon.status_code == 400
    assert "Answer the questionnaire first" in too_soon.text
    assert browser.get("/journey/steps/welcome").status_code == 409

    answer_wave(browser, "pre")
    assert "All sent. Thank you." in browser.get("/journey/steps/baseline").text
    assert browser.get("/journey/steps/welcome").status_code == 200
    response = save_step(browser, "baseline")
    assert response.status_code == 303
    assert response.headers["location"] == "/journey/steps/welcome"
    assert browser.get("/journey/steps/welcome").status_code == 200


def test_an_unknown_step_is_not_found(browser: Browser, db: Session) -> None:
    start(browser, db)
    assert browser.get("/journey/steps/nowhere").status_code == 404


def test_a_locked_step_cannot_be_saved(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    page = open_step(browser, "baseline")
    response = browser.client.post("/journey/steps/moments", data={
        "csrf_token": page.form()["csrf_token"], "prompt-alive": "Sneaking ahead",
        "action": "save",
    })
    assert response.status_code == 409
    assert answer(db, enrolment, "moments") is None


# Every step kind -----------------------------------------------------------------------


def test_content_step_continues_to_the_next_step(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "welcome")
    assert "Take your time." in open_step(browser, "welcome").text
    response = save_step(browser, "welcome")
    assert response.headers["location"] == "/journey/steps/moments"
    done = answer(db, enrolment, "welcome")
    assert done is not None and done.status == StepStatus.done


def test_reflection_save_keeps_the_text_and_continue_moves_on(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    saved = save_step(browser, "moments", {"prompt-alive": "On the ridge at dawn."},
                      action="save")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/journey/steps/moments"
    draft = answer(db, enrolment, "moments")
    assert draft is not None and draft.status == StepStatus.in_progress
    assert draft.data == {"responses": {"alive": "On the ridge at dawn.", "hard": ""}}

    moved = save_step(browser, "moments", {"prompt-alive": "On the ridge at dawn."})
    assert moved.headers["location"] == "/journey/steps/values"
    done = answer(db, enrolment, "moments")
    assert done is not None and done.status == StepStatus.done


def test_reflection_too_long_says_so_beside_the_field_and_loses_nothing(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    save_step(browser, "moments", {"prompt-alive": "The first draft."}, action="save")
    long_text = "x" * 501
    response = save_step(browser, "moments", {"prompt-alive": long_text, "prompt-hard": "Kept"})
    assert response.status_code == 400
    assert ('<small id="prompt-alive-message" class="field-error">Keep this under 500 '
            "characters; it has 501 now.</small>") in response.text
    assert f">{long_text}</textarea>" in response.text
    assert ">Kept</textarea>" in response.text
    kept = answer(db, enrolment, "moments")
    assert kept is not None and kept.data["responses"]["alive"] == "The first draft."
    assert kept.status == StepStatus.in_progress


def test_reflection_needs_its_required_prompt_to_continue(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    response = save_step(browser, "moments", {"prompt-alive": "", "prompt-hard": "A winter"})
    assert response.status_code == 400
    assert 'id="prompt-alive-message"' in response.text
    assert "Write something here to continue" in response.text
    assert ">A winter</textarea>" in response.text
    draft = answer(db, enrolment, "moments")
    assert draft is not None and draft.status == StepStatus.in_progress
    assert draft.data["responses"]["hard"] == "A winter"


SAVED_LINE = re.compile(r'id="save-status"[^>]*>\s*Saved\.')


def test_values_sort_is_chosen_then_ordered_with_move_buttons(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    assert 'name="order"' not in open_step(browser, "values").text
    chosen = save_step(browser, "values", {"value": ["curiosity", "kindness"]}, action="save")
    assert chosen.status_code == 303
    page = open_step(browser, "values")
    assert re.findall(r'name="order" value="(\w+)"', page.text) == ["kindness", "curiosity"]
    assert 'aria-label="Move Curiosity up"' in page.text
    assert 'aria-label="Move Kindness down"' in page.text
    assert "<select" not in page.text and "selected" not in page.text
    assert not re.search(r'id="ordered"[^>]*checked', page.text)

    moved = post_step(browser, page, {"value": ["curiosity", "kindness"],
                                      "order": ["kindness", "curiosity"]},
                      action="move-up:curiosity")
    assert moved.status_code == 303
    assert moved.headers["location"] == "/journey/steps/values#ranking"
    page = open_step(browser, "values")
    assert re.findall(r'name="order" value="(\w+)"', page.text) == ["curiosity", "kindness"]
    assert re.search(r'id="ordered"[^>]*checked', page.text)

    done = post_step(browser, page, {"value": ["curiosity", "kindness"],
                                     "order": ["curiosity", "kindness"], "ordered": "yes"})
    assert done.headers["location"] == "/journey/steps/energy"
    saved = answer(db, enrolment, "values")
    assert saved is not None and saved.status == StepStatus.done
    assert saved.data == {"chosen": ["kindness", "curiosity"],
                          "ranking": ["curiosity", "kindness"], "ordered": True}


def test_values_sort_refuses_to_continue_with_the_list_order_nobody_chose(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    save_step(browser, "values", {"value": ["kindness", "courage"]}, action="save")
    page = open_step(browser, "values")
    response = post_step(browser, page, {"value": ["kindness", "courage"],
                                         "order": ["kindness", "courage"]})
    assert response.status_code == 400
    assert 'id="ranking-message"' in response.text
    assert "Put them in your order first" in response.text
    assert not SAVED_LINE.search(response.text)
    draft = answer(db, enrolment, "values")
    assert draft is not None and draft.status == StepStatus.in_progress

    confirmed = post_step(browser, open_step(browser, "values"), {
        "value": ["kindness", "courage"], "order": ["kindness", "courage"], "ordered": "yes"})
    assert confirmed.headers["location"] == "/journey/steps/energy"


def test_values_sort_keeps_the_order_and_asks_again_for_a_newly_ticked_value(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    save_step(browser, "values", {"value": ["kindness", "courage"],
                                  "order": ["courage", "kindness"], "ordered": "yes"},
              action="save")
    response = save_step(browser, "values", {"value": ["kindness", "curiosity"],
                                             "order": ["courage", "kindness"],
                                             "ordered": "yes"})
    assert response.status_code == 400
    assert re.findall(r'name="order" value="(\w+)"', response.text) == ["kindness", "curiosity"]
    assert not re.search(r'id="ordered"[^>]*checked', response.text)
    draft = answer(db, enrolment, "values")
    assert draft is not None and draft.data["ordered"] is False


def test_values_sort_saves_too_many_as_a_passing_state_and_refuses_to_continue(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    page = open_step(browser, "values")
    autosaved = post_step(browser, page, {"value": ["kindness", "courage", "curiosity"]},
                          autosave=True)
    assert autosaved.status_code == 200 and "Saved at" in autosaved.text
    response = save_step(browser, "values", {"value": ["kindness", "courage", "curiosity"]})
    assert response.status_code == 400
    assert ('<p id="value-message" class="field-error">Choose exactly 2 values; you have 3. '
            "Untick the ones that matter least.") in response.text
    for value in ("kindness", "courage", "curiosity"):
        assert re.search(rf'id="value-{value}" name="value" value="{value}" checked', response.text)
    assert not SAVED_LINE.search(response.text)
    kept = answer(db, enrolment, "values")
    assert kept is not None and kept.data["chosen"] == ["kindness", "courage", "curiosity"]
    assert kept.status == StepStatus.in_progress


def test_values_sort_needs_exactly_the_number_asked_to_continue(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "values")
    response = save_step(browser, "values", {"value": ["courage"]})
    assert response.status_code == 400
    assert "Choose exactly 2 values; you have 1." in response.text
    draft = answer(db, enrolment, "values")
    assert draft is not None and draft.status == StepStatus.in_progress


def test_an_error_on_a_saved_step_is_not_shown_beside_saved(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    walk_to(browser, "moments")
    save_step(browser, "moments", {"prompt-alive": "", "prompt-hard": "A winter"},
              action="save")
    page = open_step(browser, "moments")
    assert SAVED_LINE.search(page.text)
    response = post_step(browser, page, {"prompt-alive": "", "prompt-hard": "A winter"})
    assert response.status_code == 400
    assert "Write something here to continue" in response.text
    assert not SAVED_LINE.search(response.text)


def test_rating_list_stores_rated_rows(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "energy")
    response = save_step(browser, "energy", {"item-0": "Gardening", "rating-0": "1",
                                             "item-2": "Meetings", "rating-2": "-1"})
    assert response.headers["location"] == "/journey/steps/support"
    done = answer(db, enrolment, "energy")
    assert done is not None and done.status == StepStatus.done
    assert done.data == {"rows": [{"label": "Gardening", "rating": 1},
                                  {"label": "Meetings", "rating": -1}]}


def test_rating_without_a_label_is_refused_beside_the_row(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "energy")
    save_step(browser, "energy", {"item-0": "Gardening", "rating-0": "1"}, action="save")
    response = save_step(browser, "energy", {"item-0": "Gardening", "rating-0": "1",
                                             "item-1": "", "rating-1": "0"})
    assert response.status_code == 400
    assert ('<small id="item-1-message" class="field-error">Name the activity you rated.'
            in response.text)
    assert 'value="Gardening"' in response.text
    assert '<option value="0" selected>Neutral</option>' in response.text
    kept = answer(db, enrolment, "energy")
    assert kept is not None and kept.data["rows"] == [{"label": "Gardening", "rating": 1}]


def test_rating_list_needs_enough_rated_rows_to_continue(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "energy")
    too_few = save_step(browser, "energy", {"item-0": "Gardening", "rating-0": "1"})
    assert too_few.status_code == 400
    assert "Add at least 2 to continue; you have 1." in too_few.text
    unrated = save_step(browser, "energy", {"item-0": "Gardening", "rating-0": "1",
                                            "item-1": "Meetings"})
    assert unrated.status_code == 400
    assert '<small id="rating-1-message" class="field-error">Rate this one too.' in unrated.text


def test_choice_other_needs_its_text(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "support")
    response = save_step(browser, "support", {"option": ["ideas", "other"], "other": ""})
    assert response.status_code == 400
    assert '<small id="other-message" class="field-error">Say what your other answer is' \
        in response.text
    assert 'id="option-ideas" name="option" value="ideas" checked' in response.text
    draft = answer(db, enrolment, "support")
    assert draft is not None and draft.status == StepStatus.in_progress


def test_choice_other_text_too_long_is_refused(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "support")
    response = save_step(browser, "support", {"option": ["other"], "other": "y" * 201})
    assert response.status_code == 400
    assert 'id="other-message"' in response.text and "it has 201 now" in response.text
    assert f'value="{"y" * 201}"' in response.text
    assert answer(db, enrolment, "support") is None


def test_choice_stores_the_options_and_the_other_text(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "support")
    response = save_step(browser, "support")
    assert response.headers["location"] == "/journey/steps/mentors"
    done = answer(db, enrolment, "support")
    assert done is not None and done.status == StepStatus.done
    assert done.data == {"selected": ["listening", "other"], "other": "A walking partner"}


def test_choice_needs_an_answer_to_continue(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "support")
    response = save_step(browser, "support", {})
    assert response.status_code == 400
    assert '<p id="option-message" class="field-error">Choose an answer to continue.' \
        in response.text


def test_match_shows_suggestions_and_can_be_continued(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "mentors")
    page = open_step(browser, "mentors").text
    assert "Mentors who could fit" in page and "What you are looking for" in page
    response = save_step(browser, "mentors")
    assert response.headers["location"] == "/journey/steps/draft"
    done = answer(db, enrolment, "mentors")
    assert done is not None and done.status == StepStatus.done


def test_purpose_statement_keeps_every_version(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "draft")
    save_step(browser, "draft", {"statement": "A first try."}, action="save")
    assert statements(db, enrolment) == []
    response = save_step(browser, "draft", {"part-bring": "Patience",
                                            "statement": "A first try."})
    assert response.headers["location"] == "/journey/steps/ask"
    assert statements(db, enrolment) == ["A first try."]

    save_step(browser, "draft", {"statement": "A first try. "})
    assert statements(db, enrolment) == ["A first try."]
    save_step(browser, "draft", {"statement": "A second try."})
    save_step(browser, "draft", {"statement": "A third try."})
    assert statements(db, enrolment) == ["A first try.", "A second try.", "A third try."]
    db.expire_all()
    first = db.exec(select(StatementVersion).where(
        StatementVersion.enrolment_id == enrolment.id, StatementVersion.number == 1)).one()
    assert first.parts == {"bring": "Patience"}


def test_purpose_statement_too_long_is_refused_and_typed_text_kept(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "draft")
    save_step(browser, "draft")
    response = save_step(browser, "draft", {"statement": "z" * 1001})
    assert response.status_code == 400
    assert '<small id="statement-message" class="field-error">Keep this under 1000' \
        in response.text
    assert f">{'z' * 1001}</textarea>" in response.text
    assert statements(db, enrolment) == [WALK["draft"]["statement"]]


def test_a_statement_part_too_long_is_marked_beside_it(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "draft")
    response = save_step(browser, "draft", {"part-bring": "p" * 301, "statement": "Mine."})
    assert response.status_code == 400
    assert ('<small id="part-bring-message" class="field-error">Keep this under 300 '
            "characters; it has 301 now.</small>") in response.text
    assert 'aria-invalid="true" aria-describedby="part-bring-message"' in response.text
    assert f">{'p' * 301}</textarea>" in response.text and ">Mine.</textarea>" in response.text
    assert statements(db, enrolment) == []


def test_feedback_request_needs_a_valid_address(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "ask")
    for address in ("not an address", "two@@example.org"):
        response = save_step(browser, "ask", {"reviewer_email": address})
        assert response.status_code == 400
        assert 'id="reviewer_email-message"' in response.text
        assert f'value="{address}"' in response.text
    db.expire_all()
    assert list(db.exec(select(FeedbackRequest))) == []
    pending = answer(db, enrolment, "ask")
    assert pending is not None and pending.status == StepStatus.in_progress


def test_feedback_request_cannot_go_to_oneself(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "ask")
    response = save_step(browser, "ask", {"reviewer_email": user_of(db, enrolment).email})
    assert response.status_code == 400
    assert "not you" in response.text


def test_feedback_request_reaches_the_reviewer_who_sees_only_the_statement(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    reviewer_browser = another_browser(browser)
    reviewer = sign_in(reviewer_browser, db)
    response = save_step(browser, "ask", {"reviewer_email": reviewer.email.upper(),
                                          "question": "Is it too vague?"})
    assert response.headers["location"] == "/journey/steps/revise"
    db.expire_all()
    request = db.exec(select(FeedbackRequest)).one()
    assert (request.reviewer_id, request.status) == (reviewer.id, FeedbackStatus.requested)
    mails = [path.read_text() for path in delivered(db, settings)]
    assert len(mails) == 1 and f"/feedback/{request.id}" in mails[0]

    inbox = reviewer_browser.get("/feedback")
    assert f'href="/feedback/{request.id}"' in inbox.text
    page = reviewer_browser.get(f"/feedback/{request.id}")
    assert page.status_code == 200
    assert WALK["draft"]["statement"] in page.text
    assert "Is it too vague?" in page.text
    for private in (WALK["moments"]["prompt-alive"], "Patience", "A walking partner",
                    "Gardening"):
        assert private not in page.text
    given = reviewer_browser.submit(f"/feedback/{request.id}", {"comment": "Say who."},
                                    page=f"/feedback/{request.id}")
    assert given.status_code == 303
    db.refresh(request)
    assert (request.status, request.comment) == (FeedbackStatus.given, "Say who.")


def test_a_feedback_question_too_long_is_marked_beside_it(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    response = save_step(browser, "ask", {"question": "q" * 1001, "skip": "yes"})
    assert response.status_code == 400
    assert ('<small id="question-message" class="field-error">Keep this under 1000 '
            "characters; it has 1001 now.</small>") in response.text
    assert 'aria-invalid="true" aria-describedby="question-message"' in response.text
    assert f">{'q' * 1001}</textarea>" in response.text


def test_continuing_past_a_sent_request_again_does_not_ask_twice(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    reviewer = sign_in(another_browser(browser), db)
    save_step(browser, "ask", {"reviewer_email": reviewer.email})
    again = save_step(browser, "ask", {"reviewer_email": reviewer.email})
    assert again.status_code == 303
    db.expire_all()
    assert len(list(db.exec(select(FeedbackRequest)))) == 1
    assert len(delivered(db, settings)) == 1


def test_feedback_request_can_be_skipped(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    assert save_step(browser, "ask", {"skip": "yes"}).status_code == 303
    db.expire_all()
    assert list(db.exec(select(FeedbackRequest))) == []


def test_an_empty_feedback_comment_is_refused(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    reviewer_browser = another_browser(browser)
    reviewer = sign_in(reviewer_browser, db)
    save_step(browser, "ask", {"reviewer_email": reviewer.email})
    request = db.exec(select(FeedbackRequest)).one()
    response = reviewer_browser.submit(f"/feedback/{request.id}", {"comment": "  "},
                                       page=f"/feedback/{request.id}")
    assert response.status_code == 400
    assert 'id="comment-message"' in response.text
    db.refresh(request)
    assert request.status == FeedbackStatus.requested


def test_revise_shows_feedback_beside_the_statement_and_the_word_diff(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "ask")
    reviewer_browser = another_browser(browser)
    reviewer = sign_in(reviewer_browser, db)
    save_step(browser, "ask", {"reviewer_email": reviewer.email})
    request = db.exec(select(FeedbackRequest)).one()
    reviewer_browser.submit(f"/feedback/{request.id}", {"comment": "Whose feet?"},
                            page=f"/feedback/{request.id}")

    page = open_step(browser, "revise").text
    assert "Your statement now" in page and WALK["draft"]["statement"] in page
    assert "Whose feet?" in page and reviewer.display_name in page
    assert "<ins>" not in page

    response = save_step(browser, "revise", {"statement": "I help young people find their feet."})
    assert response.headers["location"] == "/journey/steps/share"
    assert statements(db, enrolment) == ["I help people find their feet.",
                                         "I help young people find their feet."]
    diff = open_step(browser, "revise").text
    assert "What changed from version 1 to 2" in diff
    assert "I help<ins> young</ins> people" in diff
    save_step(browser, "revise", {"statement": "I help people find their voice."})
    assert "<del>feet.</del>" in open_step(browser, "revise").text


def test_publish_needs_a_choice(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "share")
    response = save_step(browser, "share", {})
    assert response.status_code == 400
    assert '<p id="visibility-message" class="field-error">Choose who may see' in response.text


def test_publish_to_the_community_shows_the_statement_to_other_members(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "share")
    response = save_step(browser, "share", {"visibility": "community"})
    assert response.headers["location"] == "/journey/steps/plan"
    db.expire_all()
    visibilities = set(db.exec(select(StatementVersion.visibility).where(
        StatementVersion.enrolment_id == enrolment.id)))
    assert visibilities == {"community"}
    other = another_browser(browser)
    sign_in(other, db)
    assert WALK["revise"]["statement"] in other.get("/community").text
    assert "visible to: the community" in browser.get("/purpose").text


def test_a_private_statement_is_not_on_the_community_page(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "share")
    save_step(browser, "share", {"visibility": "community"})
    save_step(browser, "share", {"visibility": "private"})
    other = another_browser(browser)
    sign_in(other, db)
    page = other.get("/community")
    assert page.status_code == 200
    assert WALK["revise"]["statement"] not in page.text
    assert WALK["draft"]["statement"] not in page.text


def test_action_plan_needs_a_date_for_each_commitment(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "plan")
    response = save_step(browser, "plan", {"commitment-0": "Call my sister"})
    assert response.status_code == 400
    assert '<small id="due-0-message" class="field-error">Give this commitment a date.' \
        in response.text
    assert 'value="Call my sister"' in response.text
    db.expire_all()
    assert list(db.exec(select(Commitment).where(Commitment.enrolment_id == enrolment.id))) == []


def test_action_plan_refuses_a_bad_date_and_keeps_the_saved_plan(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "plan")
    save_step(browser, "plan", action="save")
    response = save_step(browser, "plan", {"commitment-0": "Call my sister",
                                           "due-0": "2030-02-30"})
    assert response.status_code == 400
    assert '<small id="due-0-message" class="field-error">Give the date as year-month-day' \
        in response.text
    assert 'value="2030-02-30"' in response.text
    kept = answer(db, enrolment, "plan")
    assert kept is not None and kept.data["rows"] == [{"text": "Call my sister",
                                                       "due": "2030-01-31"}]


def test_action_plan_refuses_a_date_in_the_past_and_keeps_what_was_typed(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "plan")
    page = open_step(browser, "plan")
    # Half typed, a date is often in the past: autosave keeps it without a word.
    half = post_step(browser, page, {"commitment-0": "Call my sister", "due-0": "0202-01-31"},
                     autosave=True)
    assert half.status_code == 200 and "Saved at" in half.text
    yesterday = (now() - timedelta(days=2)).date().isoformat()
    response = save_step(browser, "plan", {"commitment-0": "Call my sister", "due-0": yesterday})
    assert response.status_code == 400
    assert '<small id="due-0-message" class="field-error">This date has passed' in response.text
    assert f'value="{yesterday}"' in response.text and 'value="Call my sister"' in response.text
    db.expire_all()
    assert list(db.exec(select(Commitment).where(Commitment.enrolment_id == enrolment.id))) == []


def test_a_commitment_past_its_date_is_shown_overdue_on_home_until_done(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "closing")
    commitment = db.exec(select(Commitment).where(Commitment.enrolment_id == enrolment.id)).one()
    assert "Past their date" not in browser.get("/home").text
    commitment.due_on = (now() - timedelta(days=3)).date()
    db.add(commitment)
    db.commit()
    home = browser.get("/home").text
    assert "Past their date" in home
    assert f"Call my sister · <span class=\"badge status-overdue\">overdue since " \
        f"{commitment.due_on.isoformat()}" in home
    # The plan can be sent again with the date it already had.
    again = save_step(browser, "plan", {"commitment-0": "Call my sister",
                                        "due-0": commitment.due_on.isoformat()})
    assert again.status_code == 303
    browser.submit(f"/purpose/commitments/{commitment.id}", {"done": "yes"}, page="/purpose")
    assert "Past their date" not in browser.get("/home").text


def test_action_plan_commitments_are_on_my_purpose_and_can_be_marked_done(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "plan")
    response = save_step(browser, "plan", {"commitment-0": "Call my sister", "due-0": "2030-01-31",
                                           "commitment-1": "Walk on Sundays",
                                           "due-1": "2030-03-01"})
    assert response.headers["location"] == "/journey/steps/closing"
    db.expire_all()
    rows = list(db.exec(select(Commitment).where(Commitment.enrolment_id == enrolment.id)
                        .order_by(Commitment.position)))  # type: ignore[arg-type]
    assert [(row.text, row.due_on) for row in rows] == [
        ("Call my sister", date(2030, 1, 31)), ("Walk on Sundays", date(2030, 3, 1))]
    purpose = browser.get("/purpose").text
    assert "Call my sister · by 2030-01-31" in purpose
    assert "Walk on Sundays · by 2030-03-01" in purpose

    marked = browser.submit(f"/purpose/commitments/{rows[0].id}", {"done": "yes"},
                            page="/purpose")
    assert marked.status_code == 303
    db.refresh(rows[0])
    assert rows[0].done_at is not None
    assert "<s>Call my sister</s> (done)" in browser.get("/purpose").text


def test_another_member_cannot_mark_my_commitment(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "closing")
    commitment = db.exec(select(Commitment).where(Commitment.enrolment_id == enrolment.id)).one()
    other = another_browser(browser)
    sign_in(other, db)
    response = other.submit(f"/purpose/commitments/{commitment.id}", {"done": "yes"})
    assert response.status_code == 404
    db.refresh(commitment)
    assert commitment.done_at is None


def test_finishing_the_last_step_completes_the_journey(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "closing")
    assert "Finish the journey" in open_step(browser, "closing").text
    survey = "/surveys/post/happiness"
    response = browser.submit(survey, {**{f"item-{item}": "3" for item in (
        "cheerful", "enjoyment", "good_moods", "hard_to_feel_glad")}, "action": "send"},
        page=survey)
    assert response.status_code == 303
    assert response.headers["location"] == "/purpose"
    db.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.completed and enrolment.completed_at
    purpose = browser.get("/purpose").text
    assert "You have walked the whole journey" in purpose
    assert WALK["revise"]["statement"] in purpose
    assert "Earlier versions" in purpose and WALK["draft"]["statement"] in purpose
    assert "<ol><li>Courage</li><li>Kindness</li></ol>" in purpose
    assert "Call my sister · by 2030-01-31" in purpose
    home = browser.get("/journey").text
    assert "13 of 13 steps done (100%) · completed" in home


# Resume ------------------------------------------------------------------------------------


def test_a_saved_step_shows_its_text_again_and_is_remembered(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    save_step(browser, "moments", {"prompt-alive": "Half a thought"}, action="save")
    browser.get("/journey")
    page = open_step(browser, "moments")
    assert ">Half a thought</textarea>" in page.text
    db.refresh(enrolment)
    assert enrolment.current_step_id == "moments"
    assert 'href="/journey/steps/moments" class="button">Continue where you left off' \
        in browser.get("/journey").text


def test_back_saves_and_goes_to_the_previous_step(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    response = save_step(browser, "moments", {"prompt-alive": "Kept on the way back"},
                         action="back")
    assert response.headers["location"] == "/journey/steps/welcome"
    kept = answer(db, enrolment, "moments")
    assert kept is not None and kept.data["responses"]["alive"] == "Kept on the way back"


# Autosave ----------------------------------------------------------------------------------


def test_autosave_says_saved_at_the_members_local_time(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    user = user_of(db, enrolment)
    user.time_zone = "Asia/Kathmandu"
    db.add(user)
    db.commit()
    walk_to(browser, "moments")
    response = post_step(browser, open_step(browser, "moments"),
                         {"prompt-alive": "Typing…"}, autosave=True)
    assert response.status_code == 200
    saved = answer(db, enrolment, "moments")
    assert saved is not None and saved.data["responses"]["alive"] == "Typing…"
    local = saved.updated_at.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%H:%M")
    assert f"Saved at {local}." in response.text
    assert saved.updated_at.strftime("%H:%M") != local


def test_the_same_page_autosaving_again_and_again_never_conflicts(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    page = open_step(browser, "moments")
    for text in ("O", "On", "On the", "On the ridge"):
        response = post_step(browser, page, {"prompt-alive": text}, autosave=True)
        assert response.status_code == 200, response.text
        assert "Saved at" in response.text
    saved = answer(db, enrolment, "moments")
    assert saved is not None and saved.data["responses"]["alive"] == "On the ridge"
    assert saved.version == 4
    assert 'value="4" hx-swap-oob="true"' in response.text


def test_a_second_tab_saving_over_the_first_sees_both_texts_and_overwrites_nothing(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    first_tab, second_tab = open_step(browser, "moments"), open_step(browser, "moments")
    assert first_tab.hidden("editor") != second_tab.hidden("editor")
    post_step(browser, first_tab, {"prompt-alive": "Written in the first tab"}, autosave=True)

    conflict = post_step(browser, second_tab, {"prompt-alive": "Written in the second tab"},
                         action="save")
    assert conflict.status_code == 409
    assert "This step was changed in another window" in conflict.text
    assert "Written in the first tab" in conflict.text
    assert "Written in the second tab" in conflict.text
    autosaved = post_step(browser, second_tab, {"prompt-alive": "Second tab again"},
                          autosave=True)
    assert autosaved.status_code == 409
    assert "Not saved" in autosaved.text
    saved = answer(db, enrolment, "moments")
    assert saved is not None and saved.data["responses"]["alive"] == "Written in the first tab"
    assert saved.version == 1


def test_after_a_conflict_the_member_can_keep_their_own_text(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    first_tab, second_tab = open_step(browser, "moments"), open_step(browser, "moments")
    post_step(browser, first_tab, {"prompt-alive": "First"}, autosave=True)
    conflict = post_step(browser, second_tab, {"prompt-alive": "Second"}, action="save")
    resolved = post_step(browser, StepPage(second_tab.url, conflict), {"prompt-alive": "Second"},
                         action="save")
    assert resolved.status_code == 303
    saved = answer(db, enrolment, "moments")
    assert saved is not None and saved.data["responses"]["alive"] == "Second"


def test_autosave_with_too_long_text_stores_nothing(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    page = open_step(browser, "moments")
    response = post_step(browser, page, {"prompt-alive": "x" * 501}, autosave=True)
    assert response.status_code == 400
    assert "Not saved" in response.text and "Keep this under 500 characters" in response.text
    assert answer(db, enrolment, "moments") is None


def test_autosave_on_a_locked_step_is_not_saved(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    page = open_step(browser, "baseline")
    response = browser.client.post("/journey/steps/moments/autosave", data={
        **page.form(), "prompt-alive": "Ahead"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "Not saved" in response.text
    assert answer(db, enrolment, "moments") is None


# What members type is text, never markup ------------------------------------------------


def test_html_typed_by_a_member_is_shown_escaped(browser: Browser, db: Session) -> None:
    start(browser, db)
    walk_to(browser, "moments")
    script = "<script>alert('x')</script>"
    save_step(browser, "moments", {"prompt-alive": script}, action="save")
    page = open_step(browser, "moments").text
    assert script not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    save_step(browser, "moments")
    walk_to(browser, "draft")
    save_step(browser, "draft", {"statement": f"I {script} help."})
    purpose = browser.get("/purpose").text
    assert script not in purpose
    assert "I &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; help." in purpose
    walk_to(browser, "revise")
    save_step(browser, "revise", {"statement": f"I {script} help, always."})
    save_step(browser, "share", {"visibility": "community"})
    other = another_browser(browser)
    sign_in(other, db)
    shared = other.get("/community").text
    assert script not in shared
    assert "I &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; help, always." in shared


def test_a_finished_journey_cannot_be_left(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser)
    response = browser.submit("/journey/leave", page="/journey")
    assert response.status_code == 404
    db.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.completed
