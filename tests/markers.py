"""Markers shared by the suite."""

import os

import pytest

# What the product does to the PostgreSQL it starts itself; a server given by DATABASE_URL is its
# operator's to set up.
embedded_only = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="the embedded PostgreSQL only"
)
