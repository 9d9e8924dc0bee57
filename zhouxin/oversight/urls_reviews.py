"""Oversight URLs of the reviews part (included by urls.py, namespace "oversight")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
