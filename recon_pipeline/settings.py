"""Configuration: ``recon.yaml`` overlaid by the environment variables of the contract.

With no configuration at all everything runs embedded: local inbox folders under
``$RECON_HOME``, a DuckDB warehouse file, no servers. A production deployment points the
same code at SFTP, Kafka and Postgres by setting a handful of variables, so the settings
object is the only place that knows where anything lives.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_HOME = "recon_home"
# The first pay cycle a home has data for, written by `recon run` when recon.yaml names none.
FIRST_CYCLE_FILE = "first_cycle"


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
    def from_url(cls, url: str, **kwargs: Any) -> SftpSettings:
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
class InternalConsistencySettings:
    """CONTRACT §6: which services must report each processing, and how soon.

    ``flows`` maps an entry service to the participants expected to report its processings;
    any other service that reports one becomes a participant too, so a flow may be empty.
    """

    flows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    report_within_hours: float = 24.0
    late_after_hours: float = 2.0


@dataclass(frozen=True)
class Settings:
    home: Path
    timezone: str = "UTC"
    cutoff: dt.time = dt.time(0, 0)
    # Where the pay-cycle partitions start (see ``resolve_first_cycle``): the UI shows one
    # partition per day from here, so it must be where the data starts, not a distant past.
    first_cycle: dt.date = field(default_factory=dt.date.today)
    # True when recon.yaml names first_cycle: then it is fixed and data before it is ignored;
    # otherwise it follows the data (recorded in $RECON_HOME/first_cycle by `recon run`).
    first_cycle_configured: bool = False
    settlement_window_days: int = 3
    statements_dir: Path | None = None
    # Every folder snapshot files arrive in (one per producing service, say); the first is
    # the one ``events_dir`` names and the one the demo fills.
    events_dirs: tuple[Path, ...] = ()
    sftp: SftpSettings | None = None
    kafka: KafkaSettings | None = None
    warehouse_url: str | None = None
    # Dagster's own runs, event logs and schedules: Postgres when set, else SQLite files.
    dagster_storage_url: str | None = None
    csv_profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The finance portal's users: name -> password hash (from `recon hash-password`), never a password.
    portal_users: Mapping[str, str] = field(default_factory=dict)
    # None when recon.yaml has no ``internal_consistency`` section: nothing of §6 runs.
    internal_consistency: InternalConsistencySettings | None = None

    @property
    def events_dir(self) -> Path | None:
        return self.events_dirs[0] if self.events_dirs else None

    # ----- derived locations -------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def first_cycle_record(self) -> Path:
        return self.home / FIRST_CYCLE_FILE

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
        for d in (self.home, self.landing_dir, self.reports_dir, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.statements_dir, *self.events_dirs):
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


def home_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$RECON_HOME/recon.yaml``: the configuration a home carries with it (see load_settings)."""
    env = os.environ if environ is None else environ
    home = Path(os.path.expandvars(os.path.expanduser(str(env.get("RECON_HOME") or DEFAULT_HOME))))
    return (home if home.is_absolute() else Path.cwd() / home).resolve() / "recon.yaml"


def load_settings(config_path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``recon.yaml`` then apply env overrides.

    The file is the first of: ``--config``, ``RECON_CONFIG``, ``./recon.yaml``, and the home's
    own ``$RECON_HOME/recon.yaml`` — so a home that carries its configuration (the demo writes
    one) is read the same by every later command, the Dagster UI and the daemon, with nothing
    to remember to export."""
    env = os.environ if environ is None else environ
    path = config_path or env.get("RECON_CONFIG")
    raw: dict[str, Any] = {}
    home_of_file: Path | None = None
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"configuration file {p} does not exist")
        raw = _read_yaml(p)
    elif Path("recon.yaml").is_file():
        raw = _read_yaml(Path("recon.yaml"))
    elif (home_file := home_config_path(env)).is_file():
        home_of_file, path = home_file.parent, str(home_file)
        raw = _read_yaml(home_file)
    base_dir = Path(path).resolve().parent if path else Path.cwd()

    def resolve(value: Any) -> Path:
        p = Path(os.path.expandvars(os.path.expanduser(str(value))))
        return p if p.is_absolute() else (base_dir / p)

    # A file found in the home names no other home: the home is where it was found.
    home = home_of_file or resolve(env.get("RECON_HOME") or raw.get("home") or DEFAULT_HOME).resolve()
    sources = raw.get("sources") or {}

    statements_dir = env.get("RECON_STATEMENTS_DIR") or sources.get("statements_dir")
    events_dirs = _events_dirs(env.get("RECON_EVENTS_DIR"), sources)

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
    if not events_dirs and not kafka:
        events_dirs = [str(home / "inbox" / "events")]

    timezone = str(cycles.get("timezone", raw.get("timezone", "UTC")))
    _check_timezone(timezone)
    cutoff = _parse_time(cycles.get("cutoff", raw.get("cutoff", "00:00")))
    configured_first = cycles.get("first_cycle", raw.get("first_cycle"))
    storage_url = env.get("RECON_DAGSTER_STORAGE_URL") or None
    if storage_url and not storage_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"RECON_DAGSTER_STORAGE_URL must be a postgresql:// URL, got {storage_url.split('@')[-1]!r}")
    return Settings(
        home=home,
        timezone=timezone,
        cutoff=cutoff,
        first_cycle=(_parse_date(configured_first) if configured_first is not None
                     else resolve_first_cycle(home, timezone, cutoff)),
        first_cycle_configured=configured_first is not None,
        dagster_storage_url=storage_url,
        settlement_window_days=settlement_window_days,
        statements_dir=resolve(statements_dir) if statements_dir else None,
        events_dirs=tuple(resolve(d) for d in events_dirs),
        sftp=sftp,
        kafka=kafka,
        warehouse_url=env.get("RECON_WAREHOUSE_URL") or (raw.get("warehouse") or {}).get("url"),
        csv_profiles=raw.get("csv_profiles") or {},
        internal_consistency=_internal_consistency(raw),
        portal_users=_parse_portal_users(raw.get("portal") or {}),
    )


def _events_dirs(env_value: str | None, sources: Mapping[str, Any]) -> list[str]:
    """``RECON_EVENTS_DIR`` (folders separated by ``os.pathsep``) or ``sources.events_dirs`` /
    ``sources.events_dir``: several services may each drop their snapshot files in their own."""
    if env_value:
        return [d for d in env_value.split(os.pathsep) if d.strip()]
    listed = sources.get("events_dirs")
    if listed:
        if isinstance(listed, (str, bytes)) or not isinstance(listed, (list, tuple)):
            raise ConfigError(f"sources.events_dirs must be a list of folders, got {listed!r}")
        return [str(d) for d in listed]
    single = sources.get("events_dir")
    return [str(single)] if single else []


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


def _hours(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"internal_consistency.{key} must be a number of hours, got {value!r}") from None
    if hours < 0:
        raise ConfigError(f"internal_consistency.{key} must not be negative, got {value!r}")
    return hours


def _internal_consistency(raw: Mapping[str, Any]) -> InternalConsistencySettings | None:
    if "internal_consistency" not in raw:
        return None
    section = raw.get("internal_consistency") or {}
    if not isinstance(section, dict):
        raise ConfigError("internal_consistency must be a mapping (flows, report_within_hours, late_after_hours)")
    flows_raw = section.get("flows") or {}
    if not isinstance(flows_raw, dict):
        raise ConfigError("internal_consistency.flows must map an entry service to a list of participants")
    flows: dict[str, tuple[str, ...]] = {}
    for entry, participants in flows_raw.items():
        if isinstance(participants, str):
            participants = [participants]
        if not isinstance(participants, (list, tuple)):
            raise ConfigError(f"internal_consistency.flows.{entry} must be a list of services, got {participants!r}")
        flows[str(entry)] = tuple(str(p) for p in participants if str(p) != str(entry))
    return InternalConsistencySettings(
        flows=flows,
        report_within_hours=_hours(section, "report_within_hours", 24.0),
        late_after_hours=_hours(section, "late_after_hours", 2.0),
    )


def resolve_first_cycle(home: Path, timezone: str, cutoff: dt.time) -> dt.date:
    """The first pay cycle when recon.yaml names none.

    Daily partitions from a fixed distant date (it was 2000-01-01) fill the UI with thousands
    of empty cycles, and "materialize all missing" would queue one run for each. So the start
    follows the data: ``recon run`` records the earliest cycle it found data for in
    ``$RECON_HOME/first_cycle`` (and moves it earlier if older data arrives later). A home
    with no data yet starts at today's cycle, which is also right for a deployment that is fed
    by the sensors and closed by the schedule from now on; to backfill history from a date,
    name ``pay_cycle.first_cycle`` in recon.yaml.
    """
    try:
        return dt.date.fromisoformat((home / FIRST_CYCLE_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        pass
    from recon_pipeline.cycles import cycle_of  # cycles imports Settings: imported here, not at the top

    return cycle_of(dt.datetime.now(dt.UTC), timezone, cutoff)


def _check_timezone(name: str) -> None:
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
