"""Oversight staff URLs (namespace "oversight"), under /oversight/: each part of the domain keeps
its routes in its own module."""

from . import urls_problems, urls_ratings, urls_reports, urls_reviews, urls_sites

app_name = "oversight"

urlpatterns = [
    *urls_ratings.urlpatterns,     # ratings/, peers/, rectifications/  (views_ratings.py)
    *urls_problems.urlpatterns,    # responsibilities/, problems/, meetings/  (views_problems.py)
    *urls_reviews.urlpatterns,     # reviews/  (views_reviews.py)
    *urls_sites.urlpatterns,       # sites/, cases/  (views_sites.py)
    *urls_reports.urlpatterns,     # reports/  (views_reports.py)
]
