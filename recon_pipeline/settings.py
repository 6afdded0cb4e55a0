"""Configuration: ``recon.yaml`` overlaid by the environment variables of the contract.

With no configuration at all everything runs embedded: local inbox folders under
``$RECON_HOME``, a DuckDB warehouse file, no servers. A production deployment points the
same code at SFTP, Kafka and Postgres by setting a handful of variables, so the settings
object is the only place that knows where anything lives.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote, urlparse

import yaml

DEFAULT_HOME = "recon_home"


class ConfigError(ValueError):
    """A configuration problem, reported to the user as one line."""


@dataclass(frozen=True)
class SftpSettings:
    host: str
    port: int
    username: str
    remote_dir: str
    key_file: Path | None
    known_hosts: Path | None
    archive_dir: str | None = None
    stable_seconds: float = 0.0
    marker_suffix: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "SftpSettings":
        parsed = urlparse(url)
        if parsed.scheme != "sftp" or not parsed.hostname:
            raise ConfigError(f"RECON_SFTP_URL must look like sftp://user@host:port/dir, got {url!r}")
        return cls(
            host=parsed.hostname,
            port=parsed.port or 22,
            username=unquote(parsed.username or os.environ.get("USER", "recon")),
            password=unquote(parsed.password) if parsed.password else None,
            remote_dir=parsed.path or "/",
            **kwargs,
        )


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str
    topics: tuple[str, ...] = ("payments.events",)
    group_id: str = "recon"
    # Passed through verbatim to confluent-kafka (SASL/SSL options and the like).
    client_config: Mapping[str, str] = field(default_factory=dict)
    poll_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Settings:
    home: Path
    timezone: str = "UTC"
    cutoff: dt.time = dt.time(0, 0)
    # Early enough for real historical statements; days without data are never built.
    first_cycle: dt.date = dt.date(2000, 1, 1)
    settlement_window_days: int = 3
    statements_dir: Path | None = None
    events_dir: Path | None = None
    sftp: SftpSettings | None = None
    kafka: KafkaSettings | None = None
    warehouse_url: str | None = None
    csv_profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    accounts: tuple[Mapping[str, Any], ...] = ()
    # The finance portal's users: name -> password hash (from `recon hash-password`), never a password.
    portal_users: Mapping[str, str] = field(default_factory=dict)

    # ----- derived locations -------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def portal_dir(self) -> Path:
        return self.home / "portal"

    @property
    def duckdb_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.warehouse_url) and self.warehouse_url.startswith(("postgresql://", "postgres://"))

    def close_pack_path(self, pay_cycle: str) -> Path:
        return self.reports_dir / pay_cycle / f"close_pack_{pay_cycle}.xlsx"

    def ensure_dirs(self) -> None:
        for d in (self.home, self.landing_dir, self.quarantine_dir, self.reports_dir, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.statements_dir, self.events_dir):
            if d is not None:
                d.mkdir(parents=True, exist_ok=True)


def _parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"cutoff must be HH:MM, got {value!r}") from exc


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"first_cycle must be YYYY-MM-DD, got {value!r}") from exc


def load_settings(config_path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``recon.yaml`` (``--config`` / ``RECON_CONFIG`` / ``./recon.yaml``) then apply env overrides."""
    env = os.environ if environ is None else environ
    path = config_path or env.get("RECON_CONFIG")
    raw: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"configuration file {p} does not exist")
        raw = _read_yaml(p)
    elif Path("recon.yaml").is_file():
        raw = _read_yaml(Path("recon.yaml"))
    base_dir = Path(path).resolve().parent if path else Path.cwd()

    def resolve(value: Any) -> Path:
        p = Path(os.path.expandvars(os.path.expanduser(str(value))))
        return p if p.is_absolute() else (base_dir / p)

    home = resolve(env.get("RECON_HOME") or raw.get("home") or DEFAULT_HOME).resolve()
    sources = raw.get("sources") or {}

    statements_dir = env.get("RECON_STATEMENTS_DIR") or sources.get("statements_dir")
    events_dir = env.get("RECON_EVENTS_DIR") or sources.get("events_dir")

    sftp_raw = dict(sources.get("sftp") or {})
    sftp_url = env.get("RECON_SFTP_URL") or sftp_raw.get("url")
    sftp = None
    if sftp_url:
        key_file = env.get("RECON_SFTP_KEY_FILE") or sftp_raw.get("key_file")
        known_hosts = env.get("RECON_SFTP_KNOWN_HOSTS") or sftp_raw.get("known_hosts")
        sftp = SftpSettings.from_url(
            sftp_url,
            key_file=resolve(key_file) if key_file else None,
            known_hosts=resolve(known_hosts) if known_hosts else None,
            archive_dir=sftp_raw.get("archive_dir"),
            stable_seconds=float(sftp_raw.get("stable_seconds", 0)),
            marker_suffix=sftp_raw.get("marker_suffix"),
        )

    kafka_raw = dict(sources.get("kafka") or {})
    bootstrap = env.get("RECON_KAFKA_BOOTSTRAP") or kafka_raw.get("bootstrap")
    kafka = None
    if bootstrap:
        topic_env = env.get("RECON_KAFKA_TOPIC")
        topics = kafka_raw.get("topics") or [kafka_raw.get("topic") or "payments.events"]
        if topic_env:
            topics = [t.strip() for t in topic_env.split(",") if t.strip()]
        kafka = KafkaSettings(
            bootstrap=bootstrap,
            topics=tuple(topics),
            group_id=kafka_raw.get("group_id", "recon"),
            client_config={str(k): str(v) for k, v in (kafka_raw.get("client_config") or {}).items()},
            poll_timeout_seconds=float(kafka_raw.get("poll_timeout_seconds", 10)),
        )

    cycles = raw.get("pay_cycle") or {}
    window = raw.get("settlement_window_days", cycles.get("settlement_window_days", 3))
    try:
        settlement_window_days = int(window)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"settlement_window_days must be a whole number, got {window!r}") from exc

    # With no explicit sources at all, the embedded default is a pair of inbox folders.
    if not statements_dir and not sftp:
        statements_dir = str(home / "inbox" / "statements")
    if not events_dir and not kafka:
        events_dir = str(home / "inbox" / "events")

    timezone = str(cycles.get("timezone", raw.get("timezone", "UTC")))
    _check_timezone(timezone)
    return Settings(
        home=home,
        timezone=timezone,
        cutoff=_parse_time(cycles.get("cutoff", raw.get("cutoff", "00:00"))),
        first_cycle=_parse_date(cycles.get("first_cycle", raw.get("first_cycle", "2000-01-01"))),
        settlement_window_days=settlement_window_days,
        statements_dir=resolve(statements_dir) if statements_dir else None,
        events_dir=resolve(events_dir) if events_dir else None,
        sftp=sftp,
        kafka=kafka,
        warehouse_url=env.get("RECON_WAREHOUSE_URL") or (raw.get("warehouse") or {}).get("url"),
        csv_profiles=raw.get("csv_profiles") or {},
        accounts=tuple(raw.get("accounts") or ()),
        portal_users=_parse_portal_users(raw.get("portal") or {}),
    )


def _parse_portal_users(portal: Any) -> dict[str, str]:
    """``portal.users``: a mapping of user name to password hash. A plain password there would be
    a secret at rest, so anything that is not a hash from ``recon hash-password`` is refused."""
    if not isinstance(portal, Mapping):
        raise ConfigError("portal must be a mapping with a users: entry")
    users = portal.get("users") or {}
    if not isinstance(users, Mapping):
        raise ConfigError("portal.users must map user names to password hashes")
    parsed: dict[str, str] = {}
    for name, hashed in users.items():
        if not isinstance(hashed, str) or not hashed.startswith("$argon2"):
            raise ConfigError(f"portal.users.{name} must be a password hash from `recon hash-password`")
        parsed[str(name)] = hashed
    return parsed


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {name!r}") from exc


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return data
