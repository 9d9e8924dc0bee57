"""Outsider cases of the centre pages (each part of the domain adds its own file)."""


def cases(personas) -> list:
    return []
