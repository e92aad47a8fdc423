"""The words of the reminder e-mails: friendly, short, and always with the way out."""

from app.accounts.models import User
from app.journeys.definitions import Journey, StepBase
from app.journeys.models import Commitment
from app.mail import Mail
from app.settings import Settings


def _footer(settings: Settings, token: str) -> str:
    return (
        "\n\n--\nYou get this because reminders are on in your Telos profile. "
        "To stop reminder e-mails, open this link (no sign-in needed):\n"
        f"{settings.base_url}/reminders/off/{token}\n"
    )


def followup(settings: Settings, *, user: User, journey: Journey, reminder: bool,
             token: str) -> Mail:
    days = journey.waves.followup_after_days
    if reminder:
        subject = f"Still open: your follow-up questionnaire for “{journey.title}”"
        opening = (f"A gentle reminder: the short follow-up questionnaire for “{journey.title}” "
                   "is still waiting for you.")
    else:
        subject = f"Your follow-up questionnaire for “{journey.title}”"
        opening = (f"About {days} days ago you finished “{journey.title}”. A short follow-up "
                   "questionnaire is open now.")
    body = (
        f"Hello {user.display_name},\n\n{opening} It asks some of the questions you "
        "answered before, so that you (and, if you agreed, the research team) can see what "
        "stayed with you since the journey.\n\n"
        f"Answer it here (sign in first if asked):\n{settings.base_url}/surveys/followup\n\n"
        "Thank you,\nTelos" + _footer(settings, token)
    )
    return Mail(to=user.email, subject=subject, body=body)


def nudge(settings: Settings, *, user: User, journey: Journey, step: StepBase,
          token: str) -> Mail:
    body = (
        f"Hello {user.display_name},\n\n"
        f"It has been a while since you last worked on “{journey.title}”. You stopped at "
        f"“{step.title}”; whenever you are ready, you can pick it up where you left off:\n"
        f"{settings.base_url}/journey/steps/{step.id}\n\n"
        "There is no hurry, and everything you wrote so far is saved.\n\nTelos"
        + _footer(settings, token)
    )
    return Mail(to=user.email, subject=f"Your journey is waiting: “{step.title}”", body=body)


def wave_open(settings: Settings, *, user: User, journey: Journey, step: StepBase,
              token: str) -> Mail:
    body = (
        f"Hello {user.display_name},\n\n"
        f"“{step.title}”, the last step of “{journey.title}”, is open now. It asks the "
        "questions you answered at the start, so that you can see what the weeks of the "
        "journey changed for you.\n\n"
        f"Answer it here (sign in first if asked):\n{settings.base_url}/journey/steps/{step.id}"
        "\n\nThank you,\nTelos" + _footer(settings, token)
    )
    return Mail(to=user.email, subject=f"Open now: “{step.title}”", body=body)


def commitment_overdue(settings: Settings, *, user: User, commitment: Commitment,
                       token: str) -> Mail:
    body = (
        f"Hello {user.display_name},\n\n"
        f"You meant to do this by {commitment.due_on.isoformat()}:\n\n  {commitment.text}\n\n"
        "If you did, mark it done; if life got in the way, that is fine: give it a new date "
        "or let it go. Both are on your purpose page:\n"
        f"{settings.base_url}/purpose\n\nTelos" + _footer(settings, token)
    )
    return Mail(to=user.email, subject=f"Past its date: “{commitment.text[:60]}”", body=body)
