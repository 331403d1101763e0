"""The page host: a scrolled page fills the view and scrolls only below its minimum height."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.pages.host import PageHost


class _Tall(QWidget):
    """Prefers 900 px of height, makes do with 120 (as a chart does)."""

    def sizeHint(self) -> QSize:
        return QSize(400, 900)

    def minimumSizeHint(self) -> QSize:
        return QSize(100, 120)


def _page() -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    note = QLabel("Choose a shift or a time range, then Show.")
    note.setWordWrap(True)  # what gives the page a height-for-width
    layout.addWidget(note)
    layout.addWidget(_Tall(), 1)
    layout.addWidget(QLabel("Export"))
    return page


def test_a_scrolled_page_fits_a_view_taller_than_its_minimum(qtbot) -> None:
    host = PageHost()
    qtbot.addWidget(host)
    page = _page()
    host.add_page("Reports", page, scrolled=True)
    area = host.findChild(QScrollArea, "reportsPageScroll")
    host.resize(800, 600)  # under the page's preferred height, above its minimum
    host.show()
    qtbot.waitExposed(host)
    qtbot.waitUntil(lambda: area.viewport().height() > 0)
    assert not area.verticalScrollBar().isVisible()
    assert page.height() <= area.viewport().height()
    # a view under the page's minimum scrolls rather than squeezing it
    host.resize(800, 80)
    qtbot.waitUntil(lambda: area.verticalScrollBar().isVisible())
    assert page.height() >= page.minimumSizeHint().height()
