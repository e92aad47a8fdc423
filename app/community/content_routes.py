"""Managers keep the theme list and the content library; members read library items."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from app.accounts.forms import LOCALES
from app.accounts.models import Role
from app.community import content, content_import
from app.community import service as community
from app.community import themes as theme_list
from app.community.content_forms import KINDS, ContentForm, ThemeForm
from app.community.models import ContentItem
from app.deps import FormDep, ManagerUser, ReaderUser, SessionDep
from app.forms import kept, record_id, validate
from app.web import redirect, render

router = APIRouter()


# The theme list -----------------------------------------------------------------------


def _themes_page(request: Request, session: SessionDep, status: int = 200,
                 **context: Any) -> Response:
    return render(request, "community/themes.html", {
        "themes": community.themes(session), "counts": theme_list.use_counts(session),
        "values": {}, "errors": {}, "row_values": {}, "row_errors": {}, **context,
    }, status_code=status)


@router.get("/themes")
def themes_page(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return _themes_page(request, session)


@router.post("/themes")
def add_theme(request: Request, manager: ManagerUser, session: SessionDep,
              form: FormDep) -> Response:
    data, errors = validate(ThemeForm, form)
    theme = None
    try:
        theme = theme_list.add_theme(session, label=data.label) if data else None
    except theme_list.ThemeProblem as problem:
        errors = {"label": problem.message}
    if theme is None:
        return _themes_page(request, session, 400, values=kept(form), errors=errors)
    return redirect(request, "/themes", message=f"Theme “{theme.label}” added.")


@router.post("/themes/{theme_id}")
def rename_theme(request: Request, manager: ManagerUser, session: SessionDep, form: FormDep,
                 theme_id: int) -> Response:
    theme = theme_list.get_theme(session, theme_id)
    data, errors = validate(ThemeForm, form)
    try:
        if data is not None:
            theme_list.rename_theme(session, theme=theme, label=data.label)
    except theme_list.ThemeProblem as problem:
        errors = {"label": problem.message}
    if data is None or errors:
        session.refresh(theme)
        return _themes_page(request, session, 400,
                            row_values={theme_id: form.get("label", "")},
                            row_errors={theme_id: errors["label"]})
    return redirect(request, "/themes", message=f"Renamed to “{theme.label}”.")


@router.post("/themes/{theme_id}/delete")
def delete_theme(request: Request, manager: ManagerUser, session: SessionDep,
                 theme_id: int) -> Response:
    theme = theme_list.get_theme(session, theme_id)
    try:
        theme_list.delete_theme(session, theme=theme)
    except theme_list.ThemeInUse as in_use:
        return _themes_page(request, session, 409, row_errors={theme_id: in_use.message})
    return redirect(request, "/themes", message=f"Theme “{theme.label}” deleted.")


# The content library ------------------------------------------------------------------


def _choices(session: SessionDep) -> dict[str, Any]:
    return {"kinds": KINDS, "languages": LOCALES, "all_themes": community.themes(session),
            "stage_choices": content.stage_choices(session)}


@router.get("/content")
def content_list(
    request: Request, manager: ManagerUser, session: SessionDep, kind: str = "",
    theme: str = "", language: str = "", archived: str = "",
) -> Response:
    found = content.items(session, kind=kind, theme=theme, language=language,
                          archived=bool(archived))
    return render(request, "community/content.html", {
        "items": found, "labels": community.theme_labels(session), **_choices(session),
        "filters": {"kind": kind, "theme": theme, "language": language, "archived": archived},
    })


def _form_values(form: FormData) -> dict[str, Any]:
    return {**kept(form), "themes": form.getlist("themes"), "stages": form.getlist("stages")}


def _item_values(item: ContentItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in ContentForm.model_fields} | {
        "version": str(item.version)}


def _form_page(request: Request, session: SessionDep, item: ContentItem | None,
               values: dict[str, Any], errors: dict[str, str],
               saved: ContentItem | None = None) -> Response:
    return render(request, "community/content_form.html", {
        "item": item, "values": values, "errors": errors, "saved": saved,
        "labels": community.theme_labels(session), **_choices(session),
    }, status_code=409 if saved else 400 if errors else 200)


def _checked(session: SessionDep, form: FormData) -> tuple[ContentForm | None, dict[str, str]]:
    data, errors = validate(ContentForm, _form_values(form))
    if data is not None:
        errors = content.unknown_choices(session, fields=data)
    return (None, errors) if errors else (data, {})


@router.get("/content/new")
def new_item_page(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return _form_page(request, session, None, {"language": "en"}, {})


@router.post("/content/new")
def create_item(request: Request, manager: ManagerUser, session: SessionDep,
                form: FormDep) -> Response:
    data, errors = _checked(session, form)
    try:
        item = content.create_item(session, fields=data, created_by_id=manager.user.id) \
            if data else None
    except content.DuplicateTitle as taken:
        item, errors = None, {"title": taken.message}
    if item is None:
        return _form_page(request, session, None, _form_values(form), errors)
    return redirect(request, "/content", message=f"“{item.title}” added to the library.")


@router.get("/content/import")
def import_page(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return render(request, "community/content_import.html", {
        "problems": [], "unknown_themes": [], "columns": content_import.COLUMNS})


@router.post("/content/import")
def import_items(request: Request, manager: ManagerUser, session: SessionDep,
                 form: FormDep) -> Response:
    upload = form.get("file")
    data = upload.file.read() if isinstance(upload, UploadFile) and upload.filename else None
    try:
        if data is None:
            raise content_import.ImportRefused([content_import.Problem(
                None, "file", "Choose a CSV file to import.")])
        count = content_import.import_csv(session, data=data, created_by_id=manager.user.id)
    except content_import.ImportRefused as refused:
        return render(request, "community/content_import.html", {
            "problems": [str(problem) for problem in refused.problems],
            "unknown_themes": refused.unknown_themes, "columns": content_import.COLUMNS,
        }, status_code=400)
    except content.DuplicateTitle:
        return render(request, "community/content_import.html", {
            "problems": ["file: an item with one of these titles was added meanwhile; "
                         "import the file again to see which"],
            "unknown_themes": [], "columns": content_import.COLUMNS}, status_code=409)
    noun = "item" if count == 1 else "items"
    return redirect(request, "/content", message=f"Imported {count} {noun}.")


@router.get("/content/{item_id}")
def edit_item_page(request: Request, manager: ManagerUser, session: SessionDep,
                   item_id: int) -> Response:
    item = content.get_item(session, item_id)
    return _form_page(request, session, item, _item_values(item), {})


@router.post("/content/{item_id}")
def update_item(request: Request, manager: ManagerUser, session: SessionDep, form: FormDep,
                item_id: int) -> Response:
    item = content.get_item(session, item_id)
    values = _form_values(form)
    data, errors = _checked(session, form)
    base = str(form.get("version", ""))
    try:
        if data is not None:
            content.update_item(session, item=item, fields=data,
                                base_version=record_id(base) or 0)
    except content.DuplicateTitle as taken:
        errors = {"title": taken.message}
    except content.EditConflict as conflict:
        values["version"] = str(conflict.current.version)
        return _form_page(request, session, item, values, {"__all__": conflict.message},
                          saved=conflict.current)
    if data is None or errors:
        return _form_page(request, session, item, values, errors)
    return redirect(request, "/content", message=f"“{item.title}” saved.")


@router.post("/content/{item_id}/archive")
def archive_item(request: Request, manager: ManagerUser, session: SessionDep,
                 item_id: int) -> Response:
    item = content.get_item(session, item_id)
    content.set_archived(session, item=item, archived=True)
    return redirect(request, "/content",
                    message=f"“{item.title}” archived; it is no longer suggested to anyone.")


@router.post("/content/{item_id}/unarchive")
def unarchive_item(request: Request, manager: ManagerUser, session: SessionDep,
                   item_id: int) -> Response:
    item = content.get_item(session, item_id)
    content.set_archived(session, item=item, archived=False)
    return redirect(request, "/content?archived=1",
                    message=f"“{item.title}” is back in the library.")


# Reading ------------------------------------------------------------------------------


@router.get("/library/{item_id}")
def library_item(request: Request, reader: ReaderUser, session: SessionDep,
                 item_id: int) -> Response:
    is_manager = reader.has(Role.manager)
    item = content.readable_item(session, item_id=item_id, manager=is_manager)
    return render(request, "community/content_item.html", {
        "item": item, "labels": community.theme_labels(session), "is_manager": is_manager,
        "stage_labels": {choice.key: choice.label for choice in content.stage_choices(session)},
    })
