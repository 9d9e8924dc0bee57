import pytest

from zhouxin.dispatch import screening
from zhouxin.dispatch.screening import ScreenResult

SPAM_WORDS = ("赌场", "博彩", "成人视频")


def spam_screen(text: str) -> ScreenResult:
    """A stand-in for the real spam screen another module registers."""
    for word in SPAM_WORDS:
        if word in text:
            return ScreenResult(hold=True, reason=f"含有疑似垃圾信息词语：{word}")
    return ScreenResult(hold=False)


@pytest.fixture(autouse=True)
def _publishing_isolation(settings, tmp_path):
    """No collected static files (the project's static directory is hashed instead), and the
    test screen registered for the test only."""
    settings.STATIC_ROOT = tmp_path / "no-staticfiles"
    screening.register(spam_screen)
    yield
    screening.unregister(spam_screen)
