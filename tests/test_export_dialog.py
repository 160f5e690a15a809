"""Issue 23, finding 6: one export dialog in the app — language, audience, format, and the
minutes or a chosen delegation's brief — driven with Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.demo import create_demo
from roundtable.screens.minutes import ExportModal, MinutesScreen
from roundtable.store import LocalStore
from sessions import load_roster


async def _dialog(pilot, app, key: str = "e") -> ExportModal:
    app.push_screen(MinutesScreen())
    await pilot.pause()
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, ExportModal)
    return app.screen


def _app(tmp_path: Path) -> tuple[RoundtableApp, Path]:
    home = tmp_path / "home"
    sid = create_demo(LocalStore(home), load_roster())
    app = RoundtableApp(home=home, session_id=sid, settings=Settings(language="en"),
                        sync_enabled=False)  # fmt: skip
    return app, home


async def test_the_dialog_exports_a_delegations_brief_in_a_language_for_an_audience(
    tmp_path: Path,
) -> None:
    app, home = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dialog = await _dialog(pilot, app)
        documents = dialog.query_one("#export-document", Select)
        offered = [value for _, value in documents._options if isinstance(value, str)]
        assert "minutes" in offered and "GH" in offered and "KE" in offered
        documents.value = "GH"
        dialog.query_one("#export-lang", Select).value = "fr"
        dialog.query_one("#export-audience", Select).value = "community"
        dialog.query_one("#export-format", Select).value = "html"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MinutesScreen)
    (brief,) = (home / "exports").glob("*-brief-GH-fr-community.html")
    text = brief.read_text(encoding="utf-8")
    assert '<html lang="fr" dir="ltr">' in text and "Note d&#x27;information" in text
    assert "ACP K. Mensah" not in text  # community: delegations, never people


async def test_the_dialog_exports_the_minutes_in_arabic_and_escape_writes_nothing(
    tmp_path: Path,
) -> None:
    app, home = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dialog = await _dialog(pilot, app, "h")
        assert dialog.query_one("#export-format", Select).value == "html"
        assert dialog.query_one("#export-lang", Select).value == "en"  # the session's
        dialog.query_one("#export-lang", Select).value = "ar"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportModal)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MinutesScreen)
    written = sorted(p.name for p in (home / "exports").iterdir() if p.suffix != ".json")
    assert len(written) == 1 and written[0].endswith("-minutes-ar-draft1.html"), written
    text = (home / "exports" / written[0]).read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in text and "counter(pages)" in text


async def test_the_palettes_brief_opens_the_dialog_on_that_delegation(tmp_path: Path) -> None:
    app, home = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(MinutesScreen())
        await pilot.pause()
        commands = {title: callback for title, _, callback in app.screen.palette_commands()}
        commands["export: brief for Kenya"]()
        await pilot.pause()
        assert isinstance(app.screen, ExportModal)
        assert app.screen.query_one("#export-document", Select).value == "KE"
        await pilot.press("enter")
        await pilot.pause()
    assert len(list((home / "exports").glob("*-brief-KE-en.md"))) == 1
