"""The people a member is connected to in Telos, whom they may ask for feedback by name:
their accepted mentor and the others in their circles."""

from dataclasses import dataclass

from sqlmodel import Session

from app.accounts.models import User
from app.community import circle_threads as threads
from app.community import circles
from app.matching import service as matching
from app.matching.models import MatchStatus


@dataclass(frozen=True)
class Connection:
    user: User
    how: str  # "your mentor", "in your circle 3"


def connected_people(session: Session, *, user_id: int) -> list[Connection]:
    found: dict[int, Connection] = {}
    current = matching.mentor_of(session, member_id=user_id)
    if current is not None and current[0].status == MatchStatus.accepted:
        found[current[1].id or 0] = Connection(current[1], "your mentor")
    for circle in threads.my_circles(session, user_id=user_id):
        for member in circles.active_members(session, circle_id=circle.id or 0):
            if member.id != user_id and member.id not in found and member.is_active:
                found[member.id or 0] = Connection(member, f"in your circle {circle.number}")
    return list(found.values())


def connection(session: Session, *, user_id: int, other_id: int) -> Connection | None:
    return next((each for each in connected_people(session, user_id=user_id)
                 if each.user.id == other_id), None)
