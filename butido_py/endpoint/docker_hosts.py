"""Endpoint maintenance through the docker SDK: engine stats, butido's containers, images.

Only containers labelled by butido (`butido.job`) are listed or touched unless `include_foreign`
is given: butido acted on every container of a host; butido_py leaves other people's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker import open_client
from butido_py.errors import EndpointError

JOB_LABEL = "butido.job"
LABELS = ("butido.submit", "butido.job", "butido.package", "butido.version")


@dataclass(frozen=True, slots=True)
class EngineStats:
    endpoint: str
    containers: int
    images: int
    engine_id: str
    kernel: str
    memory: int
    cores: int
    os: str
    system_time: str
    version: str


@dataclass(frozen=True, slots=True)
class ContainerRecord:
    endpoint: str
    id: str
    name: str
    image: str
    image_id: str
    created: datetime
    state: str  # running, exited, created, paused, …
    status: str  # Docker's human text, e.g. "Exited (0) 5 minutes ago"
    labels: tuple[tuple[str, str], ...]

    @property
    def is_butido(self) -> bool:
        return any(key == JOB_LABEL for key, _ in self.labels)

    def label(self, key: str) -> str | None:
        return next((value for k, value in self.labels if k == key), None)


@dataclass(frozen=True, slots=True)
class ImageRecord:
    endpoint: str
    id: str
    tags: tuple[str, ...]
    created: datetime
    size: int


def engine_stats(endpoint: EndpointConfig) -> EngineStats:
    with open_client(endpoint) as client:
        info = client.info()
        return EngineStats(
            endpoint=endpoint.name,
            containers=int(info.get("Containers", 0)),
            images=int(info.get("Images", 0)),
            engine_id=str(info.get("ID", "")),
            kernel=str(info.get("KernelVersion", "")),
            memory=int(info.get("MemTotal", 0)),
            cores=int(info.get("NCPU", 0)),
            os=str(info.get("OperatingSystem", "")),
            system_time=str(info.get("SystemTime", "")),
            version=str(info.get("ServerVersion", "")),
        )


def list_containers(
    endpoint: EndpointConfig, *, include_stopped: bool, include_foreign: bool
) -> list[ContainerRecord]:
    filters = {} if include_foreign else {"label": JOB_LABEL}
    with open_client(endpoint) as client:
        rows = client.api.containers(all=include_stopped, filters=filters)
    return sorted((_container(endpoint, row) for row in rows), key=lambda c: c.created)


def _container(endpoint: EndpointConfig, row: dict[str, Any]) -> ContainerRecord:
    labels = row.get("Labels") or {}
    names = row.get("Names") or [""]
    return ContainerRecord(
        endpoint=endpoint.name,
        id=str(row["Id"]),
        name=str(names[0]).lstrip("/"),
        image=str(row.get("Image", "")),
        image_id=str(row.get("ImageID", "")),
        created=datetime.fromtimestamp(int(row.get("Created", 0)), tz=UTC),
        state=str(row.get("State", "")),
        status=str(row.get("Status", "")),
        labels=tuple(sorted((k, str(v)) for k, v in labels.items() if k.startswith("butido."))),
    )


def remove_containers(endpoint: EndpointConfig, ids: Sequence[str]) -> None:
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint) as client:
        for container_id in ids:
            try:
                client.api.remove_container(container_id, force=True)
            except docker.errors.NotFound:
                continue


def stop_containers(endpoint: EndpointConfig, ids: Sequence[str], *, timeout: int) -> None:
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint, timeout=endpoint.timeout + timeout) as client:
        for container_id in ids:
            try:
                client.api.stop(container_id, timeout=timeout)
            except docker.errors.NotFound:
                continue


def container_top(endpoint: EndpointConfig, container_id: str) -> tuple[list[str], list[list[str]]]:
    """The processes of a running container: (titles, rows), as `docker top` prints them."""
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint) as client:
        try:
            top = client.api.top(container_id)
        except docker.errors.APIError as exc:
            raise EndpointError(
                f"endpoint {endpoint.name!r}: cannot list processes of {container_id[:12]}: "
                f"{exc.explanation or exc}",
                hint="only running containers have processes",
            ) from exc
    return [str(t) for t in top.get("Titles") or []], [
        [str(cell) for cell in row] for row in top.get("Processes") or []
    ]


def list_images(endpoint: EndpointConfig) -> list[ImageRecord]:
    with open_client(endpoint) as client:
        rows = client.api.images()
    return sorted(
        (
            ImageRecord(
                endpoint=endpoint.name,
                id=str(row["Id"]),
                tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
                created=datetime.fromtimestamp(int(row.get("Created", 0)), tz=UTC),
                size=int(row.get("Size", 0)),
            )
            for row in rows
        ),
        key=lambda image: image.created,
    )


def images_present(endpoint: EndpointConfig, names: Sequence[str]) -> dict[str, bool]:
    """For each image name: whether the endpoint has it (a tag `name`, or `name:latest`)."""
    tags = {tag for image in list_images(endpoint) for tag in image.tags}
    return {name: name in tags or f"{name}:latest" in tags for name in names}


def inspect_container(endpoint: EndpointConfig, container_id: str) -> dict[str, Any]:
    with open_client(endpoint) as client:
        details: dict[str, Any] = client.api.inspect_container(container_id)
        return details


def container_action(
    endpoint: EndpointConfig, container_id: str, action: str, *, signal: str | None = None
) -> None:
    """`start` or `kill` one container; Docker's refusal becomes a clear EndpointError."""
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint) as client:
        try:
            if action == "kill":
                client.api.kill(container_id, signal=signal)
            else:
                client.api.start(container_id)
        except docker.errors.APIError as exc:
            raise EndpointError(
                f"endpoint {endpoint.name!r}: {action} {container_id[:12]} failed: "
                f"{exc.explanation or exc}"
            ) from exc


def exec_in_container(
    endpoint: EndpointConfig, container_id: str, command: list[str]
) -> tuple[int, str]:
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint) as client:
        try:
            result = client.containers.get(container_id).exec_run(command, tty=False)
        except docker.errors.APIError as exc:
            raise EndpointError(
                f"endpoint {endpoint.name!r}: exec in {container_id[:12]} failed: "
                f"{exc.explanation or exc}",
                hint="the container must be running",
            ) from exc
    raw = result.output if isinstance(result.output, bytes) else b"".join(result.output or [])
    output = raw.decode("utf-8", "replace")
    return int(result.exit_code or 0), output


SUBMIT_LABEL = "butido.submit"


def image_id(endpoint: EndpointConfig, name: str) -> str | None:
    """The id (`sha256:…`) of image `name` on the endpoint, or None when it is not there."""
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint) as client:
        try:
            image = client.images.get(name)
        except docker.errors.ImageNotFound:
            return None
    return str(image.id or "") or None


def submit_containers(endpoint: EndpointConfig, submit_uuid: str) -> list[str]:
    """The ids of every container (running or not) labelled with this submit."""
    with open_client(endpoint) as client:
        rows = client.api.containers(all=True, filters={"label": f"{SUBMIT_LABEL}={submit_uuid}"})
    return [str(row["Id"]) for row in rows]


def remove_submit_containers(endpoint: EndpointConfig, submit_uuid: str, *, timeout: int) -> int:
    """Remove every container (running or not) labelled with this submit; how many there were.
    Each API call may take `timeout` seconds (crash recovery keeps it short)."""
    import docker.errors  # noqa: PLC0415 - lazily: commands start faster

    with open_client(endpoint, timeout=timeout) as client:
        rows = client.api.containers(all=True, filters={"label": f"{SUBMIT_LABEL}={submit_uuid}"})
        for row in rows:
            try:
                client.api.remove_container(str(row["Id"]), force=True)
            except docker.errors.NotFound:
                continue
    return len(rows)
