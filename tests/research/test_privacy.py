"""What leaves in an export: pseudonyms and answers of consenting participants, nothing else.

Every format is written from one study whose cohort holds a consenting member, one who
withdrew, one who never agreed to research, and one who deleted their account under
consent; every file is read back (Parquet, SPSS and Stata through their readers, the
bundle member by member) and searched.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pyreadstat
import pytest
from sqlmodel import Session

from app.accounts import deletion
from app.journeys.definitions import Wave
from app.journeys.models import StatementVersion, StepAnswer, StepStatus
from app.research import downloads, service
from app.research.exports import FORMATS, TEXTS
from app.research.models import Study
from app.research.source import export_source, select_part
from tests.research.studies import (
    answer,
    make_cohort,
    make_member,
    make_study,
    open_document,
    researcher,
)

PSEUDONYM = re.compile(r"P-[0-9a-f]{12}")
WITHOUT_PARTICIPANTS = {"codebook", "codebook-html"}


@dataclass
class World:
    study: Study
    expected: set[str]     # the pseudonyms that must appear
    forbidden: list[str]   # names, e-mails, codes, ids and the secret, which must not


@pytest.fixture
def world(db: Session) -> World:
    owner, cohort = researcher(db), make_cohort(db)
    people = {
        "consenting": make_member(db, cohort, name="Zebedee Quixote"),
        "withdrawn": make_member(db, cohort, withdrawn=True, name="Wilhelmina Withdrawn"),
        "refused": make_member(db, cohort, research=False, name="Rufus Refused"),
        "deleted": make_member(db, cohort, name="Delia Departed"),
    }
    for _user, enrolment in people.values():
        answer(db, enrolment, value=2)
        answer(db, enrolment, wave=Wave.post, value=4, day=41)
    study = make_study(db, owner, [cohort])
    forbidden = [owner.email, owner.display_name, study.secret]
    for user, enrolment in people.values():
        forbidden += [user.email, user.display_name, user.display_name.split()[1],
                      enrolment.participant_code, f"user:{user.id}"]
    deleted_user, deleted_enrolment = people["deleted"]
    kept_code = deleted_enrolment.participant_code
    deletion.delete_account(db, user=deleted_user)
    consenting = people["consenting"][1]
    expected = {service.code_pseudonym(study, consenting.participant_code),
                service.code_pseudonym(study, kept_code)}
    forbidden += [service.code_pseudonym(study, people[name][1].participant_code)
                  for name in ("withdrawn", "refused")]
    return World(study=study, expected=expected, forbidden=forbidden)


def written(db: Session, study: Study, fmt: str) -> Path:
    selection = select_part(study)
    path, rows = downloads.write_file(db, study=study, fmt=FORMATS[fmt], selection=selection,
                                      people=service.participants(db, study))
    assert rows > 0
    return path


def readable(name: str, data: bytes, tmp: Path) -> Iterator[str]:
    """The file as text a person would see in it, through the format's own reader."""
    yield data.decode("latin-1")  # the raw bytes as well, in case a reader hides something
    suffix = Path(name).suffix
    if suffix in (".csv", ".html", ".txt", ".json", ".md", ".R", ".sps"):
        yield data.decode("utf-8")
    elif suffix == ".parquet":
        yield pq.read_table(io.BytesIO(data)).to_pandas().to_csv()
    elif suffix in (".sav", ".dta"):
        path = tmp / f"read{suffix}"
        path.write_bytes(data)
        reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
        frame, meta = reader(str(path))
        yield frame.to_csv()
        yield repr((meta.column_names, meta.column_labels, meta.variable_value_labels,
                    meta.file_label))
    elif suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            for member in bundle.namelist():
                yield from readable(member, bundle.read(member), tmp)
    else:
        raise AssertionError(f"no reader for {name}")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_export_holds_a_name_an_email_a_code_or_a_withdrawn_member(
    db: Session, world: World, fmt: str, tmp_path: Path
) -> None:
    path = written(db, world.study, fmt)
    try:
        texts = list(readable(FORMATS[fmt].filename, path.read_bytes(), tmp_path))
    finally:
        path.unlink()
    everything = "\n".join(texts)
    for secret in world.forbidden:
        assert secret not in everything, f"{fmt} holds {secret!r}"
    found = set(PSEUDONYM.findall(everything))
    if fmt in WITHOUT_PARTICIPANTS:
        assert found == set()
    else:
        assert found == world.expected


def test_the_participant_column_holds_only_pseudonyms(db: Session, world: World) -> None:
    for fmt in ("long", "wide", "scores"):
        path = written(db, world.study, fmt)
        try:
            rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
        finally:
            path.unlink()
        assert rows and all(PSEUDONYM.fullmatch(row["participant"]) for row in rows), fmt
        assert not {"user_id", "email", "name", "display_name"} & set(rows[0]), fmt


def test_free_text_leaves_only_where_study_and_consent_allow_it(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    document = open_document(db)
    _, covered = make_member(db, cohort, document=document)
    _, uncovered = make_member(db, cohort)  # agreed to research under "telos" only
    for enrolment, text in ((covered, "Teach children to read."),
                            (uncovered, "Sail around the world.")):
        assert enrolment.id is not None
        db.add(StatementVersion(enrolment_id=enrolment.id, user_id=enrolment.user_id,
                                number=1, text=text))
    db.flush()
    for consent_key, free_text, expected in ((document.key, True, ["Teach children to read."]),
                                             (document.key, False, None),
                                             ("telos", True, None)):
        study = make_study(db, owner, [cohort], consent_key=consent_key, free_text=free_text)
        source = export_source(db, study, select_part(study), service.participants(db, study))
        if expected is None:
            assert source.texts is None
            continue
        assert source.texts is not None
        out = io.BytesIO()
        TEXTS.write(source, out, None)
        written = out.getvalue().decode("utf-8-sig")
        assert all(text in written for text in expected)
        assert "Sail around the world." not in written


def test_free_text_carries_what_members_wrote_never_addresses_or_choices(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    document = open_document(db)
    _, enrolment = make_member(db, cohort, document=document)
    assert enrolment.id is not None
    db.add(StepAnswer(enrolment_id=enrolment.id, step_id="ask", status=StepStatus.done,
                      data={"reviewer_email": "reviewer.friend@example.org",
                            "question": "Does this sound like me?", "skip": False}))
    db.add(StepAnswer(enrolment_id=enrolment.id, step_id="share", status=StepStatus.done,
                      data={"visibility": "community"}))
    db.flush()
    study = make_study(db, owner, [cohort], consent_key=document.key, free_text=True)
    source = export_source(db, study, select_part(study), service.participants(db, study))
    assert source.texts is not None
    out = io.BytesIO()
    TEXTS.write(source, out, None)
    written = out.getvalue().decode("utf-8-sig")
    assert "Does this sound like me?" in written
    assert "reviewer.friend@example.org" not in written
    assert "community" not in written
