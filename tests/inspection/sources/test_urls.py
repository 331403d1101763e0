"""Camera URLs are shown without passwords; credentials come from the URL, the recipe or the env."""

from __future__ import annotations

import pytest

from inspection.errors import SourceError
from inspection.sources.urls import credentials, redact, with_credentials


@pytest.mark.parametrize(
    "url, shown",
    [
        ("rtsp://admin:s3cr%40t@10.0.0.5:554/live", "rtsp://admin:***@10.0.0.5:554/live"),
        ("http://op:pw@cam/snap.jpg?x=1", "http://op:***@cam/snap.jpg?x=1"),
        ("rtsp://token@cam/live", "rtsp://token:***@cam/live"),
        ("http://cam/mjpg", "http://cam/mjpg"),
    ],
)
def test_redact_hides_every_password(url: str, shown: str):
    assert redact(url) == shown
    assert "s3cr" not in redact(url) and ":pw@" not in redact(url)


def test_credentials_from_url_recipe_and_environment(monkeypatch: pytest.MonkeyPatch):
    assert credentials("rtsp://admin:s3cr%40t@[::1]:554/live", None, None, None) == (
        "rtsp://[::1]:554/live",
        "admin",
        "s3cr@t",
    )
    assert credentials("rtsp://a:b@h/x", "op", "pw", None) == ("rtsp://h/x", "op", "pw")
    monkeypatch.setenv("CAM_PW", "from-env")
    assert credentials("http://h/x", "op", None, "CAM_PW")[2] == "from-env"
    monkeypatch.delenv("CAM_PW")
    with pytest.raises(SourceError, match="CAM_PW"):
        credentials("http://h/x", "op", None, "CAM_PW")


def test_with_credentials_quotes_what_urls_cannot_hold():
    url = with_credentials("rtsp://127.0.0.1:8554/a", "ad min", "p@ss:1")
    assert url == "rtsp://ad%20min:p%40ss%3A1@127.0.0.1:8554/a"
    assert credentials(url, None, None, None) == ("rtsp://127.0.0.1:8554/a", "ad min", "p@ss:1")
