"""suitkaise.timing exports exactly its public names (``test_exports.py`` checks the rest)."""

from __future__ import annotations

import suitkaise.timing as timing


def test_public_names() -> None:
    assert set(timing.__all__) == {"Sktimer", "TimeThis", "sleep", "time", "timethis"}
