"""Star ratings, peers and rectification (filled in by the ratings part)."""


def schedule_recompute() -> None:
    """Called when a new version of the rating rule commits (see policy.py)."""
