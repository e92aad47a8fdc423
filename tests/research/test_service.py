"""Studies, access to them, who takes part, and pseudonyms."""

import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.accounts import consent, deletion
from app.accounts.models import Role
from app.community import service as community
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.models import StatementVersion
from app.research import service
from app.research.service import FieldProblem, StudyNotFound
from app.research.source import answer_rows, count, score_rows, select_part, text_rows
from app.surveys.models import SurveyResponse
from tests.factories import create_user
from tests.research.studies import (
    answer,
    make_cohort,
    make_member,
    make_study,
    open_document,
    researcher,
)

PSEUDONYM = re.compile(r"^P-[0-9a-f]{12}$")


def test_pseudonym_is_stable_per_study_and_different_across_studies(db: Session) -> None:
    owner = researcher(db)
    cohort = make_cohort(db)
    _, enrolment = make_member(db, cohort)
    code = enrolment.participant_code
    first, second = make_study(db, owner, [cohort]), make_study(db, owner, [cohort])
    mine = service.code_pseudonym(first, code)
    assert PSEUDONYM.match(mine)
    assert service.code_pseudonym(first, code) == mine
    assert service.code_pseudonym(second, code) != mine
    assert [p.pseudonym for p in service.participants(db, first)] == [mine]


def test_each_study_has_its_own_random_secret(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    first, second = make_study(db, owner, [cohort]), make_study(db, owner, [cohort])
    assert len(bytes.fromhex(first.secret)) == 32
    assert first.secret != second.secret


def test_only_members_with_research_consent_not_withdrawn_take_part(db: Session) -> None:
    owner = researcher(db)
    cohort, elsewhere = make_cohort(db), make_cohort(db)
    _, yes = make_member(db, cohort)
    make_member(db, cohort, withdrawn=True)
    make_member(db, cohort, research=False)
    make_member(db, elsewhere)
    study = make_study(db, owner, [cohort])
    census = service.census(db, study)
    assert (census.consented, census.withdrawn, census.no_research_consent) == (1, 1, 1)
    assert [p.pseudonym for p in census.participants] == [
        service.code_pseudonym(study, yes.participant_code)]


def test_a_study_over_several_cohorts_takes_members_of_each(db: Session) -> None:
    owner = researcher(db)
    first, second = make_cohort(db), make_cohort(db)
    make_member(db, first)
    make_member(db, second)
    assert len(service.participants(db, make_study(db, owner, [first, second]))) == 2


def test_consent_under_another_document_does_not_count(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    make_member(db, cohort, document=open_document(db))
    census = service.census(db, make_study(db, owner, [cohort]))  # under "telos"
    assert census.participants == []
    assert census.no_research_consent == 1


def test_researchers_see_only_their_studies(db: Session) -> None:
    alice, bob = researcher(db), researcher(db)
    cohort = make_cohort(db)
    theirs = make_study(db, alice, [cohort])
    assert bob.id is not None and theirs.id is not None
    assert service.studies_for(db, user_id=bob.id) == []
    with pytest.raises(StudyNotFound):
        service.study_for(db, study_id=theirs.id, user_id=bob.id)
    service.add_researcher(db, study=theirs, email=bob.email, actor_id=alice.id or 0)
    assert service.study_for(db, study_id=theirs.id, user_id=bob.id) == theirs


def test_only_researchers_can_be_added_to_a_study(db: Session) -> None:
    owner = researcher(db)
    study = make_study(db, owner, [make_cohort(db)])
    member = create_user(db, roles=[Role.member])
    for email in (member.email, "nobody@example.org"):
        with pytest.raises(FieldProblem) as problem:
            service.add_researcher(db, study=study, email=email, actor_id=owner.id or 0)
        assert problem.value.field == "email"
    with pytest.raises(FieldProblem, match="already on this study"):
        service.add_researcher(db, study=study, email=owner.email, actor_id=owner.id or 0)


def test_the_default_battery_is_the_journeys_waves(db: Session) -> None:
    study = make_study(db, researcher(db), [make_cohort(db)])
    assert study.battery == {"pre": ["happiness"], "post": ["happiness"],
                             "followup": ["happiness"]}


def test_a_taken_short_name_is_refused_beside_its_field(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    make_study(db, owner, [cohort], slug="pilot")
    with pytest.raises(FieldProblem) as problem:
        make_study(db, owner, [cohort], slug="pilot")
    assert problem.value.field == "slug"


def test_rows_come_in_pseudonym_order_with_days_and_raw_values(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    for _ in range(3):
        _, enrolment = make_member(db, cohort)
        answer(db, enrolment, value=4)
        answer(db, enrolment, wave=Wave.post, value=5, day=40)
    study = make_study(db, owner, [cohort])
    people = service.participants(db, study)
    rows = list(answer_rows(db, select_part(study), people))
    assert [row.participant for row in rows] == sorted(row.participant for row in rows)
    assert {(row.wave, row.days_since_enrolment, row.value) for row in rows
            if row.item == "hard_to_feel_glad"} == {("pre", 0, 4.0), ("post", 40, 5.0)}
    scores = list(score_rows(db, select_part(study, waves=["post"]), people))
    assert {(row.wave, row.score, row.value) for row in scores} == {("post", "happiness", 4.0)}


def test_counts_match_the_rows(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    for _ in range(2):
        _, enrolment = make_member(db, cohort)
        answer(db, enrolment)
    _, withdrawn = make_member(db, cohort, withdrawn=True)
    answer(db, withdrawn)
    study = make_study(db, owner, [cohort])
    selection, people = select_part(study), service.participants(db, study)
    counts = count(db, selection, people)
    assert counts.participants == 2
    assert counts.answers == len(list(answer_rows(db, selection, people))) == 8
    assert counts.scores == len(list(score_rows(db, selection, people))) == 2


def test_answers_of_a_deleted_account_stay_under_the_same_pseudonym(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    user, enrolment = make_member(db, cohort)
    code = enrolment.participant_code
    answer(db, enrolment)
    study = make_study(db, owner, [cohort])
    [before] = service.participants(db, study)
    assert deletion.delete_account(db, user=user) is True
    census = service.census(db, study)
    assert census.deleted_accounts == 1
    [participant] = census.participants
    assert participant.pseudonym == before.pseudonym == service.code_pseudonym(study, code)
    assert code not in participant.pseudonym
    rows = list(answer_rows(db, select_part(study), census.participants))
    assert len(rows) == 4 and {row.participant for row in rows} == {participant.pseudonym}


def test_a_deleted_member_of_two_cohorts_of_a_study_counts_once(db: Session) -> None:
    owner, first, second = researcher(db), make_cohort(db), make_cohort(db)
    user, enrolment = make_member(db, first)
    assert user.id is not None
    journeys.leave(db, enrolment=enrolment)
    later = community.join(db, cohort=second, user_id=user.id)
    answer(db, enrolment)
    study = make_study(db, owner, [first, second])
    [before] = service.participants(db, study)
    assert deletion.delete_account(db, user=user) is True
    census = service.census(db, study)
    assert census.deleted_accounts == 1
    assert [p.pseudonym for p in census.participants] == [before.pseudonym]
    assert [p.participant_code for p in census.participants] == [enrolment.participant_code]
    assert later.participant_code != enrolment.participant_code
    alone = make_study(db, owner, [second])
    assert [p.participant_code for p in service.participants(db, alone)] == [
        later.participant_code]


def test_a_deleted_account_without_research_consent_leaves_nothing(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    user, enrolment = make_member(db, cohort, withdrawn=True)
    answer(db, enrolment)
    deletion.delete_account(db, user=user)
    study = make_study(db, owner, [cohort])
    assert service.participants(db, study) == []
    assert db.exec(select(SurveyResponse).where(
        SurveyResponse.participant_code == enrolment.participant_code)).all() == []


def test_free_text_needs_the_study_and_the_consent(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    document = open_document(db)
    _, covered = make_member(db, cohort, document=document)
    assert covered.id is not None
    db.add(StatementVersion(enrolment_id=covered.id, user_id=covered.user_id, number=1,
                            text="I want to help people read."))
    db.flush()
    open_study = make_study(db, owner, [cohort], consent_key=document.key, free_text=True)
    closed_study = make_study(db, owner, [cohort], consent_key=document.key)
    texts = list(text_rows(db, service.participants(db, open_study)))
    assert [(row.source, row.text) for row in texts] == [
        ("purpose_statement", "I want to help people read.")]
    assert list(text_rows(db, service.participants(db, closed_study))) == []



def test_a_consent_document_declares_free_text_in_its_front_matter(
    db: Session, tmp_path: Path
) -> None:
    (tmp_path / "open.md").write_text(
        "---\nid: open-study\ntitle: Open\nversion: \"1\"\nresearch_free_text: true\n---\nBody.\n")
    (tmp_path / "closed.md").write_text(
        "---\nid: closed-study\ntitle: Closed\nversion: \"1\"\nresearch_free_text: yes\n---\nB.\n")
    consent.store_documents(db, tmp_path)
    documents = {key: consent.current_document(db, key) for key in ("open-study", "closed-study")}
    assert [doc and doc.research_free_text for doc in documents.values()] == [True, False]
