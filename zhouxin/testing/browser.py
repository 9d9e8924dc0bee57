"""Helpers for the Playwright journeys."""


def open_from_menu(page, menu: str, entry: str) -> None:
    """Click `entry` in the top bar: inside the menu named `menu` when the user's bar groups
    it there, or the plain link when the group has a single entry for this user."""
    nav = page.get_by_role("navigation", name="主导航")
    toggle = nav.get_by_role("button", name=menu)
    if toggle.count():
        toggle.click()
        nav.locator(".dropdown-menu.show").get_by_role("link", name=entry, exact=True).click()
    else:
        nav.get_by_role("link", name=entry, exact=True).click()
