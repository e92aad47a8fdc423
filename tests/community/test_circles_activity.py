"""The cohort dashboard shows how alive each circle is: counts and dates, never posts."""

from datetime import timedelta

from sqlmodel import Session

from app.clock import now
from app.community.circle_models import CirclePost
from app.settings import Settings
from tests.browsing import Browser
from tests.community.circle_factories import cohort_with_members, manager, members_of, published


def test_posts_per_week_per_circle_without_their_words(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, _ = cohort_with_members(db, count=4)
    [circle] = published(db, settings, cohort)
    author = members_of(db, circle)[0]
    moment = now()
    for days_ago, body in ((0, "a secret about my father"), (1, "hello all"),
                           (8, "week two"), (30, "long ago")):
        db.add(CirclePost(circle_id=circle.id or 0, author_id=author, body=body,
                          created_at=moment - timedelta(days=days_ago, minutes=1)))
    db.commit()

    page = manager(browser, db).get(f"/cohorts/{cohort.id}")
    assert page.status_code == 200
    text = page.text
    row = text[text.index(f"Circle {circle.number}</th>"):]
    row = row[:row.index("</tr>")]
    # 4 members; this week 2, last week 1, then 0 and 0 (the 30-day-old post is older).
    assert [cell.split("<")[0] for cell in row.split("<td>")[1:6]] == ["4", "2", "1", "0", "0"]
    for body in ("a secret about my father", "hello all", "week two", "long ago"):
        assert body not in text

    csv = manager(browser, db).get(f"/cohorts/{cohort.id}/counts.csv").text
    assert f"circle,members,Circle {circle.number},4," in csv
    assert f"circle,posts_week_0,Circle {circle.number}: posts this week,2," in csv
    assert f"circle,posts_week_1,Circle {circle.number}: posts 1 week ago,1," in csv
    assert "secret" not in csv


def test_a_cohort_without_published_circles_points_to_forming_them(
    browser: Browser, db: Session
) -> None:
    cohort, _ = cohort_with_members(db, count=4)
    text = manager(browser, db).get(f"/cohorts/{cohort.id}").text
    assert "No circles are published for this cohort yet" in text
    assert f'href="/cohorts/{cohort.id}/circles"' in text
