"""Settings, read from the environment (prefix ``COVENANT_``) and an optional ``.env`` file."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class LogFormat(StrEnum):
    console = "console"
    json = "json"


class Settings(BaseSettings):
    """Everything that changes between a newcomer's laptop and a production cluster."""

    model_config = SettingsConfigDict(
        env_prefix="COVENANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(default=Path("var"), description="Where the embedded database and secrets live.")
    database_url: str = Field(default="", description="SQLAlchemy async URL; empty means SQLite under var_dir.")
    broker_url: str = Field(default="", description="redis://… or amqp://…; empty means the in-process broker.")
    secret_key: str = Field(default="", description="Signs sessions and tokens; generated into var_dir if unset.")
    modules: Annotated[list[str] | None, NoDecode] = Field(
        default=None, description="Comma-separated slugs of the enabled modules; unset means all installed."
    )
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    log_format: LogFormat = LogFormat.console
    log_level: str = "INFO"
    mail_from: str = "Covenant <no-reply@covenant.localhost>"
    smtp_host: str = Field(default="", description="Empty means mail lands in the dev mailbox page.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    public_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Public pages read anonymously are served from memory for this long at most (0: off); "
        "a write through the same process retires them at once.",
    )
    login_attempts_per_minute: int = Field(default=10, ge=1)
    relay_poll_seconds: float = Field(default=2.0, gt=0)
    dramatiq_max_retries: int = Field(default=5, ge=0, le=20)
    dramatiq_min_backoff_ms: int = Field(default=1000, ge=10)
    dramatiq_time_limit_ms: int = Field(default=60_000, ge=1000)
    dramatiq_heartbeat_timeout_ms: int = Field(
        default=60_000,
        ge=1000,
        description="Redis: a worker silent this long is presumed dead and its unacknowledged messages are requeued.",
    )
    dramatiq_maintenance_chance: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="Redis: per million broker calls, how many also requeue the messages of dead workers.",
    )

    @field_validator("modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [slug.strip() for slug in value.split(",") if slug.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if value.startswith("postgresql://"):
            return "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "amqp://", "amqps://", "memory://")):
            raise ValueError("must start with redis://, amqp:// or be empty for the in-process broker")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'covenant.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url or self.broker_url.startswith("memory://")

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once into ``var_dir`` and reused after."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
