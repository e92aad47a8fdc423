"""What each step kind reads from its form, needs before Continue, shows and does when done.

One registry keyed by kind (`KINDS`); the routes never branch on a step's kind.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from app import mail
from app.accounts import service as accounts
from app.accounts.models import User
from app.forms import email_address, typed_text_problem
from app.journeys import outside, statements
from app.journeys import service as journeys
from app.journeys.definitions import (
    ActionPlanStep,
    ChoiceStep,
    FeedbackRequestStep,
    MatchStep,
    PurposeStatementStep,
    RatingListStep,
    ReflectionStep,
    Step,
    SurveyStep,
    ValuesSortStep,
)
from app.journeys.models import Enrolment, StatementVersion, Visibility
from app.settings import Settings

Errors = dict[str, str]
OTHER = "other"
ROW_LABEL_MAX = 200
QUESTION_MAX = 1000


@dataclass
class StepContext:
    session: Session
    enrolment: Enrolment
    user: User
    settings: Settings
    mails: list[mail.Mail] = field(default_factory=list)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _text_problem(text: str, limit: int, *, one_line: bool = False) -> str | None:
    if problem := typed_text_problem(text, multi_line=not one_line):
        return problem
    if len(text) > limit:
        return f"Keep this under {limit} characters; it has {len(text)} now."
    return None


class Kind:
    """A step kind that stores nothing and is done as soon as the member continues."""

    stores_answer = False
    # The keys of the stored answer that hold the member's own words (what a study with
    # free text may export); everything else (choices, e-mail addresses) never leaves.
    written: tuple[str, ...] = ()

    def read(self, step: Any, form: FormData) -> tuple[dict[str, Any], Errors]:
        return {}, {}

    def missing(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> Errors:
        return {}

    def extra(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> dict[str, Any]:
        return {}

    def on_done(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> None:
        return None

    def landing(self, step: Any, action: str) -> str:
        """Where on the step page a save by `action` comes back to (a fragment, or "")."""
        return ""


class Content(Kind):
    pass


class Reflection(Kind):
    stores_answer = True
    written = ("responses",)

    def read(self, step: ReflectionStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        responses, errors = {}, {}
        for prompt in step.prompts:
            name = f"prompt-{prompt.id}"
            responses[prompt.id] = _text(form, name)
            if problem := _text_problem(responses[prompt.id], prompt.max_length):
                errors[name] = problem
        return {"responses": responses}, errors

    def missing(self, ctx: StepContext, step: ReflectionStep, data: dict[str, Any]) -> Errors:
        answered = data.get("responses", {})
        return {
            f"prompt-{prompt.id}": "Write something here to continue, even one sentence."
            for prompt in step.prompts if prompt.required and not answered.get(prompt.id)
        }

    def extra(self, ctx: StepContext, step: ReflectionStep, data: dict[str, Any]) -> dict[str, Any]:
        """The member's circles, where they may choose to share this step (never here)."""
        from app.community import circle_threads  # late: community builds on journeys

        return {"circles": circle_threads.my_circles(ctx.session, user_id=ctx.user.id or 0)}


class ValuesSort(Kind):
    """Tick `choose` values, then (when ranked) put them in order with Up and Down buttons.

    Nothing is ranked for the member: the list starts in the file's order, and Continue is
    refused until they have moved a value or said that the list is their order
    (`ordered`). Ticking more than `choose` is a passing state, saved as it is.
    """

    stores_answer = True
    MOVES = {"move-up": -1, "move-down": 1}

    def read(self, step: ValuesSortStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        ticked = form.getlist("value")
        chosen = [value.id for value in step.values if value.id in ticked]
        posted = list(dict.fromkeys(item for item in form.getlist("order") if item in chosen))
        ranking = posted + [value for value in chosen if value not in posted]
        # A value ticked since the list was ordered has no place yet: order again.
        ordered = _text(form, "ordered") == "yes" and len(posted) == len(chosen)
        if self._move(ranking, _text(form, "action")):
            ordered = len(posted) == len(chosen)
        return {"chosen": chosen, "ranking": ranking, "ordered": ordered}, {}

    def _move(self, ranking: list[str], action: str) -> bool:
        where, _, value = action.partition(":")
        if where not in self.MOVES or value not in ranking:
            return False
        place = ranking.index(value)
        other = place + self.MOVES[where]
        if 0 <= other < len(ranking):
            ranking[place], ranking[other] = ranking[other], ranking[place]
        return True

    def missing(self, ctx: StepContext, step: ValuesSortStep, data: dict[str, Any]) -> Errors:
        chosen = data.get("chosen", [])
        if len(chosen) != step.choose:
            extra = " Untick the ones that matter least." if len(chosen) > step.choose else ""
            return {"value": f"Choose exactly {step.choose} values; you have {len(chosen)}."
                             + extra}
        if step.rank and not data.get("ordered"):
            return {"ranking": "Put them in your order first: move a value up or down, or "
                               "tick “This is my order” if the list already is."}
        return {}

    def landing(self, step: Any, action: str) -> str:
        return "#ranking" if action.partition(":")[0] in self.MOVES else ""


class Choice(Kind):
    stores_answer = True
    written = ("other",)

    def read(self, step: ChoiceStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        allowed = [option.id for option in step.options] + ([OTHER] if step.other else [])
        selected = [option for option in allowed if option in form.getlist("option")]
        other = _text(form, "other") if step.other else ""
        errors = {}
        if not step.multiple and len(selected) > 1:
            errors["option"] = "Choose one answer."
        elif step.max_selected and len(selected) > step.max_selected:
            errors["option"] = f"Choose at most {step.max_selected}."
        if problem := _text_problem(other, 200, one_line=True):
            errors["other"] = problem
        return {"selected": selected, "other": other}, errors

    def missing(self, ctx: StepContext, step: ChoiceStep, data: dict[str, Any]) -> Errors:
        if not data.get("selected"):
            return {"option": "Choose an answer to continue."}
        if OTHER in data["selected"] and not data.get("other"):
            return {"other": "Say what your other answer is, or untick “Other”."}
        return {}


class RatingList(Kind):
    stores_answer = True
    written = ("rows",)

    def read(self, step: RatingListStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        points = {str(point.value) for point in step.scale}
        rows: list[dict[str, Any]] = []
        errors: Errors = {}
        for index in range(step.max_items):
            label, rating = _text(form, f"item-{index}"), _text(form, f"rating-{index}")
            if not label and not rating:
                continue
            position = len(rows)
            rows.append({"label": label, "rating": int(rating) if rating in points else None})
            if not label:
                errors[f"item-{position}"] = f"Name the {step.item_label.lower()} you rated."
            elif problem := _text_problem(label, ROW_LABEL_MAX, one_line=True):
                errors[f"item-{position}"] = problem
        return {"rows": rows}, errors

    def missing(self, ctx: StepContext, step: RatingListStep, data: dict[str, Any]) -> Errors:
        rows = data.get("rows", [])
        errors = {f"rating-{index}": "Rate this one too."
                  for index, row in enumerate(rows) if row.get("rating") is None}
        if len(rows) < step.min_items:
            errors["rows"] = f"Add at least {step.min_items} to continue; you have {len(rows)}."
        return errors


class PurposeStatement(Kind):
    stores_answer = True
    written = ("parts", "statement")

    def read(self, step: PurposeStatementStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        parts = {part.id: _text(form, f"part-{part.id}") for part in step.parts}
        errors = {}
        for part in step.parts:
            if problem := _text_problem(parts[part.id], part.max_length):
                errors[f"part-{part.id}"] = problem
        statement = _text(form, "statement")
        if problem := _text_problem(statement, step.max_length):
            errors["statement"] = problem
        return {"parts": parts, "statement": statement}, errors

    def missing(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> Errors:
        if not data.get("statement"):
            return {"statement": "Write your statement in your own words to continue."}
        return {}

    def on_done(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> None:
        statements.save_version(ctx.session, enrolment=ctx.enrolment, text=data["statement"],
                                parts=data.get("parts", {}))


class Revise(PurposeStatement):
    def read(self, step: Any, form: FormData) -> tuple[dict[str, Any], Errors]:
        statement = _text(form, "statement")
        errors = {}
        if problem := _text_problem(statement, step.max_length):
            errors["statement"] = problem
        return {"statement": statement}, errors

    def extra(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> dict[str, Any]:
        assert ctx.enrolment.id is not None
        versions = statements.history(ctx.session, enrolment_id=ctx.enrolment.id)
        diff = (statements.word_diff(versions[1].text, versions[0].text)
                if len(versions) > 1 else [])
        return {"versions": versions, "diff": diff,
                "feedback": statements.feedback_on(ctx.session, enrolment_id=ctx.enrolment.id)}


class FeedbackRequestKind(Kind):
    stores_answer = True
    written = ("question",)

    def read(self, step: FeedbackRequestStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        question = _text(form, "question")
        data = {"reviewer_email": _text(form, "reviewer_email"), "question": question,
                "skip": _text(form, "skip") == "yes", "reviewer_id": _text(form, "reviewer_id")}
        errors = {}
        if problem := _text_problem(question, QUESTION_MAX):
            errors["question"] = problem
        return data, errors

    def missing(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> Errors:
        if data.get("skip"):
            return {}
        assert ctx.enrolment.id is not None
        if statements.latest(ctx.session, enrolment_id=ctx.enrolment.id) is None:
            return {"reviewer_email": "Write your purpose statement first; then ask for "
                                      "feedback on it."}
        if data.get("reviewer_id"):
            return self._by_name_missing(ctx, data)
        if not data.get("reviewer_email") and self._asked_already(ctx):
            return {}  # back on the step after asking someone; nobody new to ask
        try:
            address = email_address(data.get("reviewer_email", ""))
        except ValueError as error:
            return {"reviewer_email": str(error)}
        reviewer = accounts.get_user_by_email(ctx.session, address)
        if reviewer is not None and reviewer.id == ctx.user.id:
            return {"reviewer_email": "Ask someone else (not you). Or tick the box below to "
                                      "go on without feedback."}
        if reviewer is None:
            assert ctx.user.id is not None
            try:
                outside.check_limits(ctx.session, settings=ctx.settings,
                                     requester_id=ctx.user.id, address=address)
            except outside.TooManyInvitations as limited:
                return {"reviewer_email": limited.message}
        return {}

    def _by_name_missing(self, ctx: StepContext, data: dict[str, Any]) -> Errors:
        if data.get("reviewer_email"):
            return {"reviewer_email": "Ask one person at a time: choose someone from the "
                                      "list or write an address, not both."}
        if _connection(ctx, data) is None:
            return {"reviewer_id": "Choose one of the people listed; they are the people "
                                   "you are connected to on Telos."}
        return {}

    def _asked_already(self, ctx: StepContext) -> bool:
        assert ctx.enrolment.id is not None
        return bool(statements.feedback_on(ctx.session, enrolment_id=ctx.enrolment.id))

    def on_done(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> None:
        if data.get("skip") or not (data.get("reviewer_email") or data.get("reviewer_id")):
            return
        assert ctx.enrolment.id is not None and ctx.user.id is not None
        statement = statements.latest(ctx.session, enrolment_id=ctx.enrolment.id)
        assert statement is not None
        chosen = _connection(ctx, data)
        if chosen is not None:
            self._ask(ctx, statement, chosen.user, data)
            return
        address = email_address(data["reviewer_email"])
        reviewer = accounts.get_user_by_email(ctx.session, address)
        if reviewer is None:
            link = outside.invite(ctx.session, settings=ctx.settings, statement=statement,
                                  requester=ctx.user, address=address,
                                  question=data.get("question", ""))
            ctx.mails += [link] if link else []
            _forget_address(ctx, step)
            return
        self._ask(ctx, statement, reviewer, data)

    def _ask(self, ctx: StepContext, statement: StatementVersion, reviewer: User,
             data: dict[str, Any]) -> None:
        assert ctx.user.id is not None
        request = statements.request_feedback(
            ctx.session, statement=statement, requester_id=ctx.user.id, reviewer=reviewer,
            question=data.get("question", ""),
        )
        if request is not None:
            ctx.mails.append(_feedback_mail(ctx, reviewer, request.id or 0))

    def extra(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> dict[str, Any]:
        from app.community import connections  # late: community builds on journeys

        assert ctx.enrolment.id is not None and ctx.user.id is not None
        return {"statement": statements.latest(ctx.session, enrolment_id=ctx.enrolment.id),
                "feedback": statements.feedback_on(ctx.session, enrolment_id=ctx.enrolment.id),
                "connected": connections.connected_people(ctx.session, user_id=ctx.user.id)}


def _connection(ctx: StepContext, data: dict[str, Any]) -> Any:
    """The chosen person, if they are one the member is connected to; else None."""
    from app.community import connections  # late: community builds on journeys

    chosen = data.get("reviewer_id", "")
    if not chosen.isdecimal() or len(chosen) > 12 or ctx.user.id is None:
        return None
    return connections.connection(ctx.session, user_id=ctx.user.id, other_id=int(chosen))


def _forget_address(ctx: StepContext, step: Any) -> None:
    """An address outside Telos lives only in its open request, not in the step's answer."""
    assert ctx.enrolment.id is not None
    answer = journeys.answer_for(ctx.session, enrolment_id=ctx.enrolment.id, step_id=step.id)
    if answer is not None:
        answer.data = {**answer.data, "reviewer_email": ""}
        ctx.session.add(answer)
        ctx.session.flush()


def _feedback_mail(ctx: StepContext, reviewer: User, request_id: int) -> mail.Mail:
    body = (
        f"Hello {reviewer.display_name},\n\n"
        f"{ctx.user.display_name} is writing a purpose statement on Telos and would value "
        "your comments on it. You will see only the statement and their question.\n\n"
        f"{ctx.settings.base_url}/feedback/{request_id}\n"
    )
    return mail.Mail(to=reviewer.email, subject=f"{ctx.user.display_name} asks for your "
                     "feedback", body=body)


class Publish(Kind):
    stores_answer = True

    def read(self, step: Any, form: FormData) -> tuple[dict[str, Any], Errors]:
        choice = _text(form, "visibility")
        if choice and choice not in set(Visibility):
            return {"visibility": ""}, {"visibility": "Choose one of the three options."}
        return {"visibility": choice}, {}

    def missing(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> Errors:
        if not data.get("visibility"):
            return {"visibility": "Choose who may see your statement."}
        assert ctx.enrolment.id is not None
        if statements.latest(ctx.session, enrolment_id=ctx.enrolment.id) is None:
            return {"visibility": "Write your purpose statement first."}
        return {}

    def on_done(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> None:
        assert ctx.enrolment.id is not None
        statements.publish(ctx.session, enrolment_id=ctx.enrolment.id,
                           visibility=Visibility(data["visibility"]))

    def extra(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> dict[str, Any]:
        assert ctx.enrolment.id is not None
        return {"statement": statements.latest(ctx.session, enrolment_id=ctx.enrolment.id)}


class ActionPlan(Kind):
    stores_answer = True

    def read(self, step: ActionPlanStep, form: FormData) -> tuple[dict[str, Any], Errors]:
        rows: list[dict[str, str]] = []
        errors: Errors = {}
        for index in range(step.max_commitments):
            text, due = _text(form, f"commitment-{index}"), _text(form, f"due-{index}")
            if not text and not due:
                continue
            position = len(rows)
            rows.append({"text": text, "due": due})
            if problem := _text_problem(text, 300, one_line=True):
                errors[f"commitment-{position}"] = problem
            elif not text:
                errors[f"commitment-{position}"] = "Say what you will do."
            if due and not _iso_date(due):
                errors[f"due-{position}"] = "Give the date as year-month-day, e.g. 2026-12-31."
        return {"rows": rows}, errors

    def missing(self, ctx: StepContext, step: ActionPlanStep, data: dict[str, Any]) -> Errors:
        rows = data.get("rows", [])
        errors = {f"due-{index}": "Give this commitment a date."
                  for index, row in enumerate(rows) if not row.get("due")}
        errors.update(self._past(ctx, rows))
        if len(rows) < step.min_commitments:
            errors["rows"] = (f"Write at least {step.min_commitments} commitment"
                              f"{'s' if step.min_commitments > 1 else ''} to continue.")
        return errors

    def _past(self, ctx: StepContext, rows: list[dict[str, str]]) -> Errors:
        """A date before the member's today is refused on Continue (not while they type:
        a date half typed is often in the past), unless it is the date already kept."""
        assert ctx.enrolment.id is not None
        today = statements.today_for(ctx.user)
        kept = {(item.text, item.due_on) for item in
                statements.commitments(ctx.session, enrolment_id=ctx.enrolment.id)}
        return {f"due-{index}": f"This date has passed (today is {today.isoformat()}). "
                                "Choose today or a later day."
                for index, row in enumerate(rows)
                if _iso_date(row.get("due", "")) and date.fromisoformat(row["due"]) < today
                and (row["text"], date.fromisoformat(row["due"])) not in kept}

    def on_done(self, ctx: StepContext, step: Any, data: dict[str, Any]) -> None:
        assert ctx.enrolment.id is not None
        rows = [(row["text"], date.fromisoformat(row["due"])) for row in data["rows"]]
        statements.replace_plan(ctx.session, enrolment_id=ctx.enrolment.id, rows=rows)


def _iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class Survey(Kind):
    def missing(self, ctx: StepContext, step: SurveyStep, data: dict[str, Any]) -> Errors:
        from app.surveys import waves  # imported late: surveys build on journeys

        if not waves.wave_submitted(ctx.session, enrolment=ctx.enrolment, wave=step.wave):
            return {"survey": "Answer the questionnaire first; then you can continue."}
        return {}

    def extra(self, ctx: StepContext, step: SurveyStep, data: dict[str, Any]) -> dict[str, Any]:
        from app.surveys import waves

        return {"wave": waves.wave_overview(ctx.session, enrolment=ctx.enrolment,
                                            wave=step.wave)}


class Match(Kind):
    """Suggested mentors and content, with the member's preferences; the forms on the page
    post to the matching routes and come back here."""

    def extra(self, ctx: StepContext, step: MatchStep, data: dict[str, Any]) -> dict[str, Any]:
        from app.matching import service as matching  # late: matching builds on journeys

        journey = journeys.journey_of(ctx.session, ctx.enrolment)
        stage = next((stage.id for phase in journey.phases for stage in phase.stages
                      if any(item.id == step.id for item in stage.steps)), None)
        return {
            **matching.member_page(ctx.session, user=ctx.user, encoder_name=ctx.settings.encoder,
                                   mentors_wanted=step.suggest in ("mentors", "both"),
                                   content_wanted=step.suggest in ("content", "both"),
                                   stage=stage),
            "back_to": f"/journey/steps/{step.id}",
        }


KINDS: dict[str, Kind] = {
    "content": Content(),
    "reflection": Reflection(),
    "values_sort": ValuesSort(),
    "choice": Choice(),
    "rating_list": RatingList(),
    "purpose_statement": PurposeStatement(),
    "feedback_request": FeedbackRequestKind(),
    "revise": Revise(),
    "publish": Publish(),
    "action_plan": ActionPlan(),
    "survey": Survey(),
    "match": Match(),
}


def kind_of(step: Step) -> Kind:
    return KINDS[step.kind]


WRITTEN_KEYS = frozenset(key for kind in KINDS.values() for key in kind.written)
