"""Consent in a real browser: two separate choices, and withdrawal as easy as consent."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_auth_flows import NAME_LABEL, PASSWORD

pytestmark = pytest.mark.browser


def test_consent_then_withdraw_from_research(page: Page) -> None:
    page.goto("/signup")
    page.get_by_label(NAME_LABEL).fill("Consenting Member")
    page.get_by_label("E-mail").fill(f"consent-{uuid.uuid4().hex[:10]}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.goto("/consent?next=/profile")
    expect(page.get_by_role("heading", name="Taking part in Telos")).to_be_visible()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.locator(".field-error")).to_contain_text("cannot keep your journey without")
    page.get_by_label("(a) I agree").check()
    page.get_by_label("(b) I agree").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_role("status")).to_contain_text("may be used for research")
    page.get_by_role("button", name="Withdraw from research").click()
    expect(page.get_by_role("status")).to_contain_text("You have withdrawn from research")
    expect(page.get_by_text("You withdrew from research on")).to_be_visible()
