"""Demo mentors with profiles, written for Telos, so a fresh install shows real suggestions.
Loading twice adds nothing the second time; a profile a mentor already wrote is kept."""

import random
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.community import themes
from app.community.models import Theme
from app.matching import service as matching


@dataclass(frozen=True)
class DemoMentor:
    email: str
    display_name: str
    time_zone: str
    bio: str
    experience: str
    themes: tuple[str, ...]
    languages: tuple[str, ...]
    offers: tuple[str, ...]
    capacity: int


MENTORS = (
    DemoMentor(
        "mentor@demo.example.org", "Omar Mentor", "Europe/London",
        "I spent twenty years teaching in secondary schools and now run a homework club in "
        "my neighbourhood. I like helping people find out what they are good at and where "
        "it is needed, and I ask more questions than I give answers.",
        "Teacher and head of year; founded a volunteer homework club; trained as a youth "
        "worker.",
        ("Youth and education", "Volunteering and service", "Community and belonging"),
        ("en", "fr"), ("listening", "first_steps", "check_ins"), 3,
    ),
    DemoMentor(
        "lucia.mentor@demo.example.org", "Lucía Mentor", "Europe/Madrid",
        "After a long career in banking I changed course at fifty and now work for a "
        "cooperative that helps small businesses get started. I know how it feels to leave "
        "a safe job for something that matters more, and how to plan the jump.",
        "Fifteen years in corporate finance; three years advising social enterprises; "
        "coaches people changing careers.",
        ("Career and work", "Starting something new", "Money and security",
         "Life transitions"),
        ("es", "en"), ("career", "first_steps", "check_ins"), 2,
    ),
    DemoMentor(
        "kofi.mentor@demo.example.org", "Kofi Mentor", "Africa/Accra",
        "I organise tree planting and river clean-ups with volunteers of every age. What "
        "keeps me going is seeing a group of strangers become neighbours who look after a "
        "place together.",
        "Environmental scientist; coordinates a network of community climate groups.",
        ("Environment and climate", "Community and belonging", "Volunteering and service"),
        ("en",), ("introductions", "first_steps"), 2,
    ),
    DemoMentor(
        "ines.mentor@demo.example.org", "Inês Mentor", "Europe/Lisbon",
        "I am a nurse and a painter. I have walked with many people through illness, loss "
        "and new beginnings, and I believe a quiet conversation can show what really "
        "matters to someone.",
        "Palliative care nurse for twelve years; leads art workshops for people in "
        "recovery.",
        ("Health and wellbeing", "Creativity and the arts", "Life transitions"),
        ("pt", "en", "es"), ("listening", "check_ins"), 2,
    ),
)


def load(session: Session) -> None:
    """Adds the demo mentors that are missing, and a profile for each that has none."""
    from app.demo import DEMO_PASSWORD  # late: app.demo loads this module

    keys = {theme.label: theme.key for theme in session.exec(select(Theme))}
    for demo in MENTORS:
        user = accounts.get_user_by_email(session, demo.email) or accounts.create_user(
            session, email=demo.email, display_name=demo.display_name, password=DEMO_PASSWORD,
            roles=[Role.mentor],
        )
        assert user.id is not None
        if matching.mentor_profile(session, user_id=user.id) is not None:
            continue
        _profile(session, user, demo, [_theme_key(session, keys, label) for label in demo.themes])
    session.flush()


def _theme_key(session: Session, keys: dict[str, str], label: str) -> str:
    """The theme's key, adding the theme when the list does not have it yet."""
    if label not in keys:
        keys[label] = themes.add_theme(session, label=label).key
    return keys[label]


def _profile(session: Session, user: User, demo: DemoMentor, theme_keys: list[str]) -> None:
    assert user.id is not None
    if user.time_zone == "UTC":
        user.time_zone = demo.time_zone
        session.add(user)
    matching.save_mentor_profile(
        session, user_id=user.id, bio=demo.bio, experience=demo.experience,
        themes=theme_keys, languages=list(demo.languages), offers=list(demo.offers),
        capacity=demo.capacity, accepting=True,
    )


# What the demo study's synthetic members say they look for, so a match run on the demo
# cohort has themes, wishes and words to weigh, not only time zones.
DEMO_WANTS = (
    "Someone who has changed careers and can tell me what the first year is really like.",
    "A person to talk to every few weeks who will ask me whether I did what I said I would.",
    "I would like to meet people in my town who already do volunteer work.",
    "Help to turn a vague wish to work with young people into a first concrete step.",
    "A calm listener; I am still working out what matters to me after a hard year.",
    "Advice on starting a small project of my own without risking everything.",
    "Someone who makes art and has found a way to share it with their community.",
    "I want to look after the river and the park near me and do not know where to begin.",
)
PARTICIPANT_EMAILS = "participant%@demo.example.org"


def give_participants_preferences(session: Session) -> None:
    """Preferences for the demo study's members who have none (seeded, so always the same)."""
    rng = random.Random(2026)  # noqa: S311  (demo data, seeded on purpose)
    keys = [theme.key for theme in session.exec(select(Theme).order_by(col(Theme.key)))]
    wishes = sorted(matching.WISHES)
    members = session.exec(select(User).where(col(User.email).like(PARTICIPANT_EMAILS))
                           .order_by(col(User.id)))
    for user in members:
        assert user.id is not None
        picks = (rng.sample(keys, k=min(len(keys), rng.randint(1, 3))),
                 rng.sample(wishes, k=rng.randint(1, 2)), rng.choice(DEMO_WANTS))
        if matching.preferences(session, user_id=user.id) is not None:
            continue
        languages = ["en", "es"] if rng.random() < 0.2 else ["en"]
        matching.save_preferences(session, user_id=user.id, themes=picks[0],
                                  languages=languages, wishes=picks[1], wants=picks[2])
