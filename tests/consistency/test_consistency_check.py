"""The Dagster asset check shows each participant's figures and warns while breaks are open."""
from __future__ import annotations

from dagster import AssetCheckSeverity

from assets.internal_consistency import internal_consistency_result
from recon_pipeline.consistency.counts import ParticipantCounts


def test_open_breaks_warn_and_name_the_participants_with_their_counts():
    rows = [ParticipantCounts("gateway", 5, 4, 0, 1, 1), ParticipantCounts("ledger", 7, 7, 0, 0, 0)]
    result = internal_consistency_result(rows, tracked=True)
    assert not result.passed and result.severity == AssetCheckSeverity.WARN
    assert "gateway" in result.description and "ledger" not in result.description
    per = result.metadata["per_participant"].value
    assert per["gateway"] == {"processings": 5, "reported": 4, "late": 0, "missing": 1, "disagreeing": 1}
    assert result.metadata["missing"].value == 1 and result.metadata["reported"].value == 11


def test_participants_that_all_agree_pass():
    assert internal_consistency_result([ParticipantCounts("ledger", 3, 3, 0, 0, 0)], tracked=True).passed


def test_without_configuration_the_check_passes_as_not_tracked():
    result = internal_consistency_result([], tracked=False)
    assert result.passed and result.metadata["internal_status"].value == "not_tracked"
