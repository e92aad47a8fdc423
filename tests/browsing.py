"""A test client that uses the site the way a browser does: forms carry their CSRF token."""

import re

import httpx
from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"|"X-CSRF-Token": "([0-9a-f]+)"')


def csrf_token_in(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1) or match.group(2)


class Browser:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.get(url, **kwargs)  # type: ignore[arg-type]

    def token(self, page: str = "/") -> str:
        response = self.client.get(page, follow_redirects=True)
        return csrf_token_in(response.text)

    def submit(
        self, url: str, data: dict[str, object] | None = None, *, page: str | None = None,
        follow: bool = False, headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST `data` to `url` as the form on `page` (default: `url` itself, else the start)."""
        token = self.token(page or _form_page(url))
        return self.client.post(
            url, data={**(data or {}), "csrf_token": token}, follow_redirects=follow,
            headers=headers,
        )

    def login(self, email: str, password: str) -> httpx.Response:
        response = self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response

    def logout(self) -> httpx.Response:
        return self.submit("/logout", page="/home")


def _form_page(url: str) -> str:
    return url if url in {"/login", "/signup", "/reset", "/profile"} else "/"
