"""Evidence bundles: what the cluster, Prometheus, Alertmanager and the timeline said, sealed.

`collect_evidence` writes a folder under the incident's evidence dir (dirs 0700, files 0600):

  <incident>-<UTC stamp>[-<pod>]/
    manifest.json                    per file: sha256, size, source, time, redactions; who, where
    pods.json                        incident-wide only: every pod's status at collection time
    pods/<pod>/pod.json              the pod object
    pods/<pod>/logs/<c>.log          current run of container c (bounded, redacted while streaming)
    pods/<pod>/logs/<c>.previous.log the run before (only for containers that restarted)
    pods/<pod>/events.json           events of the pod (involvedObject.name)
    owners/<Kind>-<name>.json        ReplicaSet -> Deployment, StatefulSet, DaemonSet, Job
    owners/<Kind>-<name>.events.json
    metrics.json                     range data of every health check (metrics.py)
    alerts.json                      Alertmanager's alerts (firing and suppressed)
    timeline.json                    report.to_json of the timeline so far

then archives it to `<folder>.tar.gz` (0600, fsynced, renamed into place) and records its sha256
and the manifest's on the timeline as a Kind.EVIDENCE event: who, when, what, hash. The folder
is removed after archiving: the archive is the one artifact whose hash is on the timeline.

Modules: kube_reads (the cluster), logs (streamed, capped, redacted), bundle (files, manifest
entries, archive), metrics (Prometheus range data), collect (the use case, with cancel), verify
(list and check bundles).
"""

from warroom.actions.evidence.collect import (
    BundleResult,
    EvidenceCancelled,
    EvidenceRequest,
    EvidenceSources,
    collect_evidence,
)
from warroom.actions.evidence.leads import Lead
from warroom.actions.evidence.limits import EvidenceLimits
from warroom.actions.evidence.verify import list_bundles, verify_bundles

__all__ = [
    "BundleResult",
    "EvidenceCancelled",
    "EvidenceLimits",
    "EvidenceRequest",
    "EvidenceSources",
    "Lead",
    "collect_evidence",
    "list_bundles",
    "verify_bundles",
]
