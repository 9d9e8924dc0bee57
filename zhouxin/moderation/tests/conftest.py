import pytest

from zhouxin.core.scoping import scopes_disabled
from zhouxin.moderation import lexicon
from zhouxin.moderation.services import seed_default_lexicon


@pytest.fixture
def seeded(db):
    """The default lexicon, as `make migrate` loads it."""
    with scopes_disabled():
        seed_default_lexicon()
    lexicon.reset_cache()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
