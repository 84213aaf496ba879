"""All configuration, read once from the environment (and `.env` if present)."""

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyrage
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def sqlalchemy_url(libpq_url: str) -> str:
    """`postgresql://…` as operators write it, in the form SQLAlchemy's psycopg 3 dialect takes."""
    parts = urlsplit(libpq_url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    return urlunsplit(("postgresql+psycopg", *parts[1:]))


# An IPv4 or IPv6 address (without brackets), or a host name.
HOST_FORM = r"^([0-9A-Fa-f:.]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$"


class Settings(BaseSettings):
    # A variable set empty takes its default: `HOST=` listened on every interface, and an empty directory
    # was the working one (initdb into it, backups beside the code).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # A libpq URL (postgresql://user:pass@host:5432/db?sslmode=require). Unset: embedded PostgreSQL.
    database_url: str | None = None
    data_dir: Path = Field(default=Path(".data"), validation_alias="SUPPORTDESK_DATA_DIR")
    # Backups of the embedded PostgreSQL (supportdesk.lifecycle.backup): on unless set to 0. Where they go
    # (default: beside the data directory, `<data dir>-backups`), and the age public key (age1…) they are
    # encrypted to (default: one generated once, its private key in `<data dir>-backup-identity.txt`).
    backups: bool = Field(default=True, validation_alias="SUPPORTDESK_BACKUPS")
    backup_dir: Path | None = Field(default=None, validation_alias="SUPPORTDESK_BACKUP_DIR")
    backup_recipient: str | None = Field(default=None, validation_alias="SUPPORTDESK_BACKUP_RECIPIENT")
    # Refuse to serve as a PostgreSQL superuser (row-level security would not apply) unless told to.
    allow_superuser: bool = Field(default=False, validation_alias="SUPPORTDESK_ALLOW_SUPERUSER")

    # An address or a host name, checked for its form here: "not a host" failed only once migrated.
    host: str = Field(default="127.0.0.1", pattern=HOST_FORM)
    # The proxies whose X-Forwarded-For gives the client's address (what the login throttle counts by).
    # Uvicorn reads it from the environment alone, where an empty value trusted none and .env was unread.
    forwarded_allow_ips: str = Field(default="127.0.0.1,::1", validation_alias="FORWARDED_ALLOW_IPS")
    port: int = Field(default=8000, ge=1, le=65535)
    db_pool_size: int = Field(default=20, ge=1, validation_alias="SUPPORTDESK_DB_POOL_SIZE")
    # Server processes (each with its own connection pool); `supportdesk serve --workers` overrides.
    web_workers: int = Field(default=1, ge=1, validation_alias="SUPPORTDESK_WEB_WORKERS")
    # Each server process also runs a job worker (set by `supportdesk serve` unless --no-worker).
    inprocess_worker: bool = Field(default=False, validation_alias="SUPPORTDESK_INPROCESS_WORKER")

    # At most ten years: an expiry past the calendar's end failed every login and sign-up.
    token_ttl_hours: int = Field(
        default=24 * 30, ge=1, le=24 * 365 * 10, validation_alias="SUPPORTDESK_TOKEN_TTL_HOURS"
    )
    webhook_allow_private: bool = Field(default=False, validation_alias="SUPPORTDESK_WEBHOOK_ALLOW_PRIVATE")
    max_body_bytes: int = Field(default=1_000_000, ge=1, validation_alias="SUPPORTDESK_MAX_BODY_BYTES")
    # Threads for the embedding model. One: measured on 2 cores, a ticket text costs 8–17 ms CPU with
    # one thread and ~100 ms with two (spin-waiting), and the server shares the machine with
    # PostgreSQL. Bulk work (evaluation, re-indexing) may use 2.
    ai_threads: int = Field(default=1, ge=1, le=64, validation_alias="SUPPORTDESK_AI_THREADS")
    # An optional OpenAI-compatible chat endpoint (the URL its /chat/completions is under, e.g.
    # https://api.openai.com/v1) that phrases automatic answers from the retrieved passages only.
    # Unset: answers quote the passages themselves.
    llm_url: str | None = Field(default=None, validation_alias="SUPPORTDESK_LLM_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="SUPPORTDESK_LLM_MODEL")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="SUPPORTDESK_LLM_API_KEY")
    llm_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, allow_inf_nan=False, validation_alias="SUPPORTDESK_LLM_TIMEOUT_SECONDS"
    )

    @field_validator("database_url")
    @classmethod
    def _postgresql(cls, url: str | None) -> str | None:
        if url:
            sqlalchemy_url(url)  # a ValueError when it is no postgresql:// URL
        return url

    @field_validator("llm_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        # Otherwise first read by an answer: each confident answer's job failed, and was retried, for ever.
        if url:
            try:
                parts = httpx.URL(url)  # as the chat requests will read it
            except httpx.InvalidURL as error:
                raise ValueError(str(error)) from None
            if parts.scheme not in ("http", "https") or not parts.host or not 0 < (parts.port or 80) < 65536:
                raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("backup_recipient")
    @classmethod
    def _age_public_key(cls, key: str | None) -> str | None:
        # Otherwise first read by the first seal: every seal failed, and the WAL piled up unencrypted.
        if key:
            try:
                pyrage.x25519.Recipient.from_str(key)
            except pyrage.RecipientError:
                raise ValueError("must be an age public key (age1…)") from None
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
