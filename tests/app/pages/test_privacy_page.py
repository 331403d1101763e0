"""The Privacy page in the main window: the notice's sections and mask drawings, Save as PDF."""

from __future__ import annotations

from pathlib import Path

from support.privacy_recipe import write_masked_recipe
from support.windows import close_window, open_window

from app.pages.privacy import PrivacyPage
from inspection.jobs import JobPool
from inspection.paths import user_paths
from inspection.privacy import NOTHING_LEAVES, TITLE

HEADINGS = (
    "Cameras and privacy masks",
    "What is stored and for how long",
    "What leaves this machine",
    "Who can see what",
    "What this software never does",
)


def test_the_page_shows_the_notice_of_the_recipe_in_force_and_saves_it_as_pdf(
    qtbot, tmp_path: Path
) -> None:
    recipe = write_masked_recipe(tmp_path)
    window = open_window(qtbot, recipe, start=False)
    try:
        assert "Privacy" in window.pages.names()
        page = window.privacy_page
        assert isinstance(page, PrivacyPage)
        with qtbot.waitSignal(page.noticeShown, timeout=15_000) as shown:
            window.pages.action("Privacy").trigger()
        notice = shown.args[0]
        assert notice.recipe_name == "masked" and notice.recipe_file == recipe
        assert page.title.text() == TITLE
        assert list(page.section_labels) == list(HEADINGS)
        cameras = page.section_labels["Cameras and privacy masks"].text()
        assert "Camera door" in cameras and "2 masked areas" in cameras
        assert NOTHING_LEAVES in page.section_labels["What leaves this machine"].text()
        assert "no user accounts yet" in page.section_labels["Who can see what"].text()
        picture = page.picture_labels["door"]
        assert not picture.pixmap().isNull() and picture.pixmap().width() > 100
        assert notice.cameras[0].picture.from_camera, "a stopped station's camera was asked"

        pdf = tmp_path / "saved" / "notice.pdf"
        with qtbot.waitSignal(page.saved, timeout=15_000) as saved:
            page.save_pdf(pdf)
        assert saved.args[0] == pdf and pdf.read_bytes().startswith(b"%PDF-")
        assert page.save_button.isEnabled() and str(pdf) in page.status.text()

        blocked = tmp_path / "a file"
        blocked.write_text("not a folder", encoding="utf-8")
        with qtbot.waitSignal(page.saveFailed, timeout=15_000) as failed:
            page.save_pdf(blocked / "notice.pdf")
        assert page.status.text().startswith("Not saved: ") and failed.args[0]
        assert page.save_button.isEnabled(), "the page stays usable after a failed save"
    finally:
        close_window(qtbot, window)


def test_a_running_station_lends_its_masked_frames_instead_of_its_cameras(
    qtbot, tmp_path: Path
) -> None:
    recipe = write_masked_recipe(tmp_path)
    window = open_window(qtbot, recipe, start=True)
    try:
        station = window.station
        assert station is not None
        qtbot.waitUntil(lambda: station.newest_frame("door") is not None, timeout=10_000)
        with qtbot.waitSignal(window.privacy_page.noticeShown, timeout=15_000) as shown:
            window.pages.show_page("Privacy")
        picture = shown.args[0].cameras[0].picture
        assert picture.from_camera and (picture.image[20, 20] == 0).all()
    finally:
        close_window(qtbot, window)


def test_without_a_recipe_the_page_says_to_open_one(qtbot) -> None:
    pool = JobPool()
    page = PrivacyPage(user_paths(), pool, lambda: None)
    qtbot.addWidget(page)
    page.show()
    assert page.refresh() is None
    assert "Open a recipe first" in page.status.text()
    assert not page.save_button.isEnabled() and page.save_pdf(Path("x.pdf")) is None
    pool.shutdown(1.0)
