"""Views of the orgs app: browsing (browse.py) and xlsx import/export (transfer.py)."""
