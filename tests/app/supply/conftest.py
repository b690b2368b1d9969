"""Fixtures of the site's supply tests: CLINICAL's enrolled clinic store."""

# ruff: noqa: F401

from __future__ import annotations

from tests.app.services.conftest import clinic, migrated_store
