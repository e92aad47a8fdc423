"""What a post in any thread (a peer circle's, a member's with their mentor) may be:
plain text, not empty, not too long. Links stay text; templates show it with `paragraphs`."""

from app.community.circle_models import POST_LIMIT
from app.errors import TelosError
from app.forms import typed_text_problem

__all__ = ["POST_LIMIT", "PostProblem", "post_text"]


class PostProblem(TelosError):
    """A post that cannot be kept as typed; the form shows the message beside it."""

    status_code = 400
    title = "Your post was not sent"


def post_text(body: str, *, limit: int = POST_LIMIT) -> str:
    """The text to store, or PostProblem saying what to change."""
    problem = typed_text_problem(body, multi_line=True)
    if problem:
        raise PostProblem(problem)
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise PostProblem("Write something before posting; the post was empty.")
    if len(text) > limit:
        raise PostProblem(f"Your post has {len(text):,} characters; the limit is "
                          f"{limit:,}. Shorten it, or split it into two posts.")
    return text
