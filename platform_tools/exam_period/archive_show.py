"""`exam-period show`: browse an archive without the live database.

The summary answers what the exam office asks of an old period: who registered (by status),
what was paid, which modalities, fees, centres and signatory applied, and which exams ran.
`--table` prints one table's rows as archived.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from platform_tools.exam_period.archive_format import ArchiveManifest
from platform_tools.exam_period.archive_verify import table_rows

MODALITY_FIELDS = ("code", "label", "fixed_fee_cents", "fee_per_hour_cents", "needs_centre")
CENTRE_FIELDS = ("code", "label", "capacity")


def configuration(path: Path) -> dict[str, Any]:
    """The modalities (with fees), centres (by modality code) and signatory of an archive."""
    modalities = {row["id"]: row for row in table_rows(path, "exam_modality")}
    centres = [
        {**{k: row[k] for k in CENTRE_FIELDS}, "modality": modalities[row["modality_id"]]["code"]}
        for row in table_rows(path, "exam_centre")
    ]
    signatory = next(iter(table_rows(path, "certificate_signatory")), None)
    return {
        "modalities": [{k: row[k] for k in MODALITY_FIELDS} for row in modalities.values()],
        "centres": centres,
        "signatory": {k: signatory[k] for k in ("name", "title")} if signatory else None,
    }


def summary(path: Path, manifest: ArchiveManifest) -> dict[str, Any]:
    """What `show` prints about an archive."""
    registrations = list(table_rows(path, "exam_registration"))
    paid = sum(row["amount_cents"] for row in table_rows(path, "exam_payment"))
    exams = [row for row in table_rows(path, "exam") if row["period_id"] == manifest.period.id]
    return {
        "archive": manifest.id,
        "path": str(path),
        "period": manifest.period.__dict__,
        "archived_at": manifest.finished_at.isoformat(),
        "app_version": manifest.app_version,
        "image": manifest.image,
        "engine": manifest.engine,
        "schema_version": manifest.schema_version,
        "forced_reason": manifest.forced_reason,
        "in_progress_when_archived": manifest.in_progress,
        "tables": manifest.tables,
        "registrations_by_status": dict(
            sorted(Counter(r["status"] for r in registrations).items())
        ),
        "payments_total_cents": paid,
        "exams": len(exams),
        "configuration": configuration(path),
        "size_bytes": manifest.size_bytes,
    }
