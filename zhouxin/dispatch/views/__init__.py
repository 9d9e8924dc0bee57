"""Dispatch views, one module per part: work, catalogue, whistles, rates."""
