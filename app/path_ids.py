"""Ids in addresses.

A number beyond what a 64-bit integer column holds names nothing, so it is answered
with 404 before the database sees it (SQLite would raise OverflowError on it).
"""

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

LARGEST_ID = 2**63 - 1


async def ids_in_range(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    for field in route.dependant.path_params:
        if field.field_info.annotation is int and not _fits(request.path_params[field.alias]):
            raise HTTPException(status_code=404)


def _fits(text: str) -> bool:
    try:
        return abs(int(text)) <= LARGEST_ID
    except ValueError:
        return True  # not a number at all: the validation error answers it (404 as well)
