"""All settings of the gateway, read once from the environment (and `.env`).

Environment variable names are a public interface (docs/contract/interfaces.md);
groups keep them flat (``TWILIO_AUTH_TOKEN``) while the code reads
``settings.twilio.auth_token``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The demo's fixed development token: the simulator signs with it. Production
# refuses to start with it (see Settings.check_production).
DEMO_TWILIO_AUTH_TOKEN = "demo-development-auth-token-not-secret"  # noqa: S105
DEMO_INTERNAL_TOKEN = "demo-internal-token-not-secret"  # noqa: S105
DEMO_RASA_TOKEN = "demo-rasa-token-not-secret"  # noqa: S105
DEMO_SECRET_KEY = "demo-secret-key-not-secret"  # noqa: S105


def _config(prefix: str = "") -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class TwilioSettings(BaseSettings):
    """Twilio credentials and numbers (``TWILIO_*``)."""

    model_config = _config("TWILIO_")

    account_sid: str = ""
    auth_token: SecretStr = SecretStr(DEMO_TWILIO_AUTH_TOKEN)
    api_base: str = ""
    messaging_service_sid: str = ""
    from_number: str = "+15305550100"
    pay_connector: str = "Default"
    csr_queue: str = "csr"
    csr_number: str = ""
    sms_per_second: float = 1.0

    @property
    def has_credentials(self) -> bool:
        """True when outbound messages can go to Twilio's REST API."""
        return bool(self.account_sid)


class ImapSettings(BaseSettings):
    """The customer-service mailbox (``IMAP_*``)."""

    model_config = _config("IMAP_")

    host: str = ""
    port: int = 993
    user: str = ""
    password: SecretStr = SecretStr("")
    ssl: bool = True
    folder: str = "INBOX"


class SmtpSettings(BaseSettings):
    """Outbound mail server (``SMTP_*``)."""

    model_config = _config("SMTP_")

    host: str = ""
    port: int = 587
    user: str = ""
    password: SecretStr = SecretStr("")
    starttls: bool = True
    from_address: str = "customerservice@valleysprings-water.example.com"


class Settings(BaseSettings):
    """Every setting of the product; build with :func:`get_settings`."""

    model_config = _config()

    production: bool = False
    database_url: str = ""
    var_dir: Path = Path("var")
    district_file: Path = Path("bot/district.yml")
    public_base_url: str = "http://127.0.0.1:8000"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr = SecretStr(DEMO_RASA_TOKEN)
    actions_url: str = "http://127.0.0.1:5055"
    internal_api_token: SecretStr = SecretStr(DEMO_INTERNAL_TOKEN)
    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)
    inbox_maildir: Path = Path("var/maildir")
    assistant_now: datetime | None = None
    conversation_timeout_minutes: int = 30
    log_level: str = "INFO"

    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    imap: ImapSettings = Field(default_factory=ImapSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)

    @field_validator("assistant_now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("ASSISTANT_NOW needs a UTC offset, e.g. 2026-11-26T22:30:00-08:00")
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under ``var/``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'assistant.db'}"

    def production_problems(self) -> list[str]:
        """Reasons this configuration must not run in production mode."""
        problems: list[str] = []
        if not self.production:
            return problems
        if self.assistant_now is not None:
            problems.append("ASSISTANT_NOW pins the clock; it is refused in production")
        demo_secrets = {
            "TWILIO_AUTH_TOKEN": (self.twilio.auth_token, DEMO_TWILIO_AUTH_TOKEN),
            "INTERNAL_API_TOKEN": (self.internal_api_token, DEMO_INTERNAL_TOKEN),
            "RASA_TOKEN": (self.rasa_token, DEMO_RASA_TOKEN),
            "SECRET_KEY": (self.secret_key, DEMO_SECRET_KEY),
        }
        for name, (value, demo) in demo_secrets.items():
            if value.get_secret_value() == demo:
                problems.append(f"{name} still has the demo value")
        return problems


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
