"""The main window's pages: one shown at a time, chosen with a row of toolbar buttons.

The buttons are checkable actions in one exclusive group, placed on the window's existing toolbar,
so the operator screen loses no height to a second bar and Operator is always one touch away.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QVBoxLayout, QWidget


class _FitsTheView(QWidget):
    """Holds a scrolled page so that it scrolls only below its minimum height.

    A page with a word-wrapped label has a height-for-width, and Qt's box layouts answer it
    with the sum of their items' *preferred* heights: the scroll area then made the page that
    tall, so the Reports page scrolled at 1920×1080 with its Export buttons cut off, though its
    minimum is 620 px. Here the height a width needs is the page's minimum; the page's own
    layout still wraps its labels within the height it is given.
    """

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(page)

    def heightForWidth(self, width: int) -> int:
        return self.minimumSizeHint().height()


class PageHost(QStackedWidget):
    """Pages by name; ``pageChanged(name)`` when another page comes to the front."""

    pageChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageHost")
        self.nav = QActionGroup(self)
        self.nav.setExclusive(True)
        self._pages: dict[str, QWidget] = {}
        self._actions: dict[str, QAction] = {}
        self._holders: dict[str, QWidget] = {}  # what the stack shows: the page or its scroller

    def add_page(
        self, name: str, page: QWidget, *, tip: str = "", scrolled: bool = False
    ) -> QAction:
        """Add ``page`` under ``name``; returns its navigation action (for a toolbar or menu).

        ``scrolled``: the page scrolls when the window is smaller than it needs, instead of
        making the window ask for more (a stack asks for its largest page's minimum size, and
        the operator screen must fit 1280×720 whatever the engineer's pages need)."""
        if name in self._pages:
            raise ValueError(f"a page named {name!r} is already hosted")
        self._pages[name] = page
        holder: QWidget = page
        if scrolled:
            area = QScrollArea()
            area.setObjectName(f"{name.lower()}PageScroll")
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setWidget(_FitsTheView(page))
            holder = area
        self._holders[name] = holder
        self.addWidget(holder)
        action = QAction(name, self)
        action.setObjectName(f"page{name}")
        action.setCheckable(True)
        action.setToolTip(tip or f"Show the {name} page")
        action.triggered.connect(lambda _checked=False, n=name: self.show_page(n))
        self.nav.addAction(action)
        self._actions[name] = action
        if len(self._pages) == 1:
            action.setChecked(True)
        return action

    def show_page(self, name: str) -> QWidget:
        """Bring the page ``name`` to the front (KeyError naming the pages when unknown)."""
        if name not in self._pages:
            raise KeyError(f"no page {name!r}; pages are {', '.join(self._pages)}")
        page = self._pages[name]
        self._actions[name].setChecked(True)
        holder = self._holders[name]
        if self.currentWidget() is not holder:
            self.setCurrentWidget(holder)
            self.pageChanged.emit(name)
        return page

    @property
    def current_name(self) -> str:
        current = self.currentWidget()
        return next((n for n, h in self._holders.items() if h is current), "")

    def names(self) -> list[str]:
        return list(self._pages)

    def page(self, name: str) -> QWidget:
        return self._pages[name]

    def action(self, name: str) -> QAction:
        return self._actions[name]
