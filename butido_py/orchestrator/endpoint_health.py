"""`EndpointHealth`: the failover decisions of a build (docs/endpoints.md).

Every try of a job on an endpoint is an attempt. When the endpoint fails (unreachable, container
not created, inputs or outputs not copied, the engine died while the job ran; never the script)
the job is tried again on another endpoint, up to `job_attempts` tries. The endpoint's consecutive
failures are counted in the database (other builds count too); from `quarantine_after` on it is
quarantined for `quarantine_seconds` and this build's scheduler gives it no more jobs. An attempt
the engine carried out (whatever the script did) resets the count.

One outage counts once: when an endpoint dies, every job it holds fails at about the same time.
The failure of an attempt that had started before this build saw the first failure of the
endpoint's current outage is not counted (it is the same outage), so jobs sent to a dying endpoint
together do not multiply its failures and its quarantine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from butido_py.errors import ButidoError
from butido_py.orchestrator.model import BuildSettings
from butido_py.orchestrator.recording import BuildRecorder

log = logging.getLogger(__name__)


class EndpointHealth:
    def __init__(
        self,
        recorder: BuildRecorder,
        settings: BuildSettings,
        take_out: Callable[[str], None],
    ) -> None:
        self._recorder = recorder
        self._settings = settings
        self._take_out = take_out
        self._lock = threading.Lock()
        #: Endpoints whose consecutive failures are known to be 0 in the database.
        self._healthy: set[str] = set()
        #: Endpoint → when (time.monotonic) this build saw the first failure of its outage.
        self._outage_seen: dict[str, float] = {}

    def may_retry(self, attempt: int) -> bool:
        """Whether a job whose attempt number `attempt` failed on an endpoint gets another."""
        return attempt < self._settings.job_attempts

    def worked(self, name: str) -> None:
        """The engine did its part (whatever the script did): its failure count starts again."""
        with self._lock:
            if name in self._healthy:
                return
            self._healthy.add(name)
            self._outage_seen.pop(name, None)
        self._recorder.endpoint_succeeded(name)

    def broke(self, name: str, *, started: float | None = None) -> None:
        """One more infrastructure failure of the endpoint, unless the attempt had `started`
        (time.monotonic) before the first failure of the current outage was seen; quarantined,
        it gets no more jobs."""
        with self._lock:
            self._healthy.discard(name)
            seen = self._outage_seen.get(name)
            if seen is None:
                self._outage_seen[name] = time.monotonic()
            elif started is not None and started < seen:
                log.info("endpoint %s: a failure of the outage already counted", name)
                return
        try:
            record = self._recorder.endpoint_failed(
                name,
                after=self._settings.quarantine_after,
                seconds=self._settings.quarantine_seconds,
            )
        except ButidoError as error:
            log.warning("recording the failure of endpoint %s failed: %s", name, error)
            return
        until = record.quarantined_until
        if until is not None and until > datetime.now(UTC):
            log.warning(
                "endpoint %s is quarantined until %s after %d infrastructure failures: "
                "it gets no more jobs",
                name,
                until.strftime("%Y-%m-%d %H:%M:%S UTC"),
                record.consecutive_failures,
            )
            self._take_out(name)
