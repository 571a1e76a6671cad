"""Bounds of one evidence bundle, from [evidence] in settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.settings import EvidenceSettings


@dataclass(frozen=True)
class EvidenceLimits:
    max_log_lines: int = 5000  # per log file
    max_log_bytes: int = 5 * 1024 * 1024  # per log file, after redaction
    max_pods: int = 20  # incident-wide collections: the most suspect pods first
    request_timeout: float = 60.0  # seconds, per Kubernetes request (a whole log stream)
    metric_minutes: float = 30.0  # metric snapshot window

    @classmethod
    def from_settings(cls, s: EvidenceSettings) -> EvidenceLimits:
        return cls(
            max_log_lines=s.max_log_lines,
            max_log_bytes=s.max_log_bytes,
            max_pods=s.max_pods,
            request_timeout=s.request_timeout,
            metric_minutes=s.metric_window.total_seconds() / 60,
        )
