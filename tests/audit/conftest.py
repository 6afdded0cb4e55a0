from __future__ import annotations

import pytest

from tests.postgres_databases import postgres_databases


@pytest.fixture
def postgres_url():
    with postgres_databases(1) as (url,):
        yield url
