"""Configuration from `TONGBAN_*` environment variables (and an optional `.env` file).

Secrets have no usable default outside demo mode: `get_settings()` refuses to start a
non-demo deployment whose secret key is missing or still the demo placeholder.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    demo: bool = Field(False, description="Demo mode: generated secrets and keys, demo cast allowed.")
    database_url: str = Field("sqlite:///var/tongban.db", description="SQLAlchemy URL; sqlite or postgresql.")
    var_dir: Path = Field(Path("var"), description="Where SQLite, keys, checkpoints and exports live.")
    secret_key: str = Field("", description="Key for session cookies and keyed pseudonyms.")
    keys_dir: Path | None = Field(None, description="Signing keys (Ed25519 PEM); default VAR_DIR/keys.")
    audit_checkpoint_file: Path | None = Field(
        None, description="Signed audit checkpoints, outside the database; default VAR_DIR/audit/checkpoints.jsonl."
    )
    audit_checkpoint_interval: float = Field(
        1.0, ge=0, description="Seconds between signed audit checkpoints while events keep coming."
    )
    audit_sealer: Literal["inline", "background"] = Field(
        "background", description="Web app: seal audit events in a background thread (batched) or inline."
    )
    job_modules: list[str] = Field(
        default_factory=list, description="Extra modules that register job handlers (core ones always load)."
    )
    token_ttl_seconds: int = Field(3600, ge=60)
    session_ttl_seconds: int = Field(8 * 3600, ge=60)
    rate_limit_storage: str = Field(
        "memory://", description="Where login throttling counts (core.throttle): memory:// for one process, "
        "redis://host:6379 when several processes serve one site.",
    )
    anonymous_rate_limit: str = Field(
        "60/minute;600/hour", description="How many requests refused 401 (nobody signed in) one source may "
        "make before it is answered 429 (core.throttle; the `limits` library's notation).",
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest request body (bytes), refused with 413 before it is read; "
        "material uploads may take the largest size a pack may declare (50 MB) plus the multipart envelope."
    )
    default_locale: str = "zh_CN"
    log_level: str = "INFO"
    cookie_secure: bool = Field(False, description="Set true behind HTTPS.")
    public_url: str | None = Field(
        None, description="Where residents reach the platform, e.g. https://tongban.example.gov.cn: links and QR "
        "codes (a certificate's verify URL, DCAT IRIs). Unset: the request's own host (http://localhost:8000 in the CLI)."
    )
    metrics_token: str | None = Field(
        None, description="Bearer token Prometheus sends to scrape /metrics (at least 16 characters); unset: "
        "/metrics is refused."
    )
    pack_dir: Path = Field(Path("packs/demo"), description="The pack `demo load` and `make run` load.")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.keys_dir is None:
            self.keys_dir = self.var_dir / "keys"
        if self.audit_checkpoint_file is None:
            self.audit_checkpoint_file = self.var_dir / "audit" / "checkpoints.jsonl"
        return self

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")) or " " in value:
            raise ValueError("public_url must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: str | None) -> str | None:
        if value and len(value) < 16:
            raise ValueError("metrics_token must be at least 16 characters")
        return value or None

    def public_base(self, request_base: str | None = None) -> str:
        """The platform's public address, without a trailing slash: `public_url` when set,
        else the request's own base URL, else http://localhost:8000."""
        return self.public_url or (request_base or "http://localhost:8000").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class ConfigError(RuntimeError):
    """Configuration that must not be run with."""


def _demo_secret(var_dir: Path) -> str:
    path = var_dir / DEMO_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load_settings(**overrides: object) -> Settings:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.secret_key:
        if not settings.demo:
            raise ConfigError(
                "TONGBAN_SECRET_KEY is not set. Set it to a long random value, or set TONGBAN_DEMO=1 for a demo."
            )
        settings.secret_key = _demo_secret(settings.var_dir)
    elif len(settings.secret_key) < 32 and not settings.demo:
        raise ConfigError("TONGBAN_SECRET_KEY must be at least 32 characters.")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
