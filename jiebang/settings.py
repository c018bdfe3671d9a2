"""One typed settings object, read from ``JIEBANG_*`` environment variables at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GiB = 1024**3
MiB = 1024**2


class Settings(BaseSettings):
    """Every setting has a ``JIEBANG_`` name, e.g. ``JIEBANG_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="JIEBANG_", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("instance")
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    queue_name: str = "jiebang"  # the RQ queue the web enqueues on and workers serve
    # Prefix of this deployment's rate-limit and cache keys in Redis; unset: queue_name.
    namespace: str = ""

    # Jiebang's own engine (scripts/start-engine.sh), never the host's: DOCKER_HOST is not
    # read. JIEBANG_DOCKER_URL is the old name, still accepted.
    docker_host: str = Field(
        default="unix:///run/jiebang/docker.sock",
        validation_alias=AliasChoices("JIEBANG_DOCKER_HOST", "JIEBANG_DOCKER_URL"),
    )
    sandbox_runtime: Literal["runc", "runsc"] = "runc"
    max_image_bytes: int = 2 * GiB
    max_bundle_bytes: int = 100 * MiB
    # A sponsor's challenge bundle (zip): folders of images, audio or documents.
    max_challenge_bytes: int = 20 * GiB
    # The body of any request but a file upload (JSON, forms): parsed in memory.
    max_request_bytes: int = 1 * MiB
    max_prediction_bytes: int = 256 * MiB
    job_timeout_s: int = 3600
    lease_s: int = 60
    login_rate_limit: str = "10/minute"  # sign-in attempts per client address
    login_account_rate_limit: str = "10 per 15 minutes"  # failed sign-ins per account
    register_rate_limit: str = "10/hour"  # sign-ups per client address
    submit_rate_limit: str = "30/minute"
    # Receipts (jiebang/receipts.py): the Ed25519 private key that signs them (PEM; in
    # production required, elsewhere made once as data_dir/keys/signing.pem), and the
    # folder of public keys, current and retired, published at /keys (unset: the
    # signing key's folder).
    signing_key_file: Path | None = None
    public_keys_dir: Path | None = None
    # Mail (jiebang/mail.py): no smtp_host, no mail is sent (the site still notifies).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_password_file: Path | None = None  # read at start-up; wins over smtp_password
    smtp_starttls: bool = True  # upgrade the plain connection (port 587)
    smtp_ssl: bool = False  # TLS from the first byte instead (port 465)
    smtp_timeout_s: float = 30
    smtp_ca_file: Path | None = None  # trust this CA (PEM) for the server, else the system's
    mail_from: str = Field(
        default="Jiebang <noreply@localhost>",
        validation_alias=AliasChoices("JIEBANG_MAIL_FROM", "JIEBANG_SMTP_FROM"),
    )
    # The site's address as readers reach it, for links in mail (e.g. https://jiebang.example).
    public_url: str = "http://127.0.0.1:5000"
    mail_digest_hours: int = 24  # a digest goes out when its oldest entry is this old

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.data_dir = self.data_dir.resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'jiebang.db'}"
        if not self.secret_key:
            if self.env == "production":
                raise ValueError(
                    "JIEBANG_SECRET_KEY is required in production: set it to a long random value"
                )
            self.secret_key = "dev-only-not-secret"
        if self.signing_key_file is None:
            if self.env == "production":
                raise ValueError(
                    "JIEBANG_SIGNING_KEY_FILE is required in production: make a key with "
                    "`jiebang keys generate PATH` and set it to that PATH"
                )
            self.signing_key_file = self.data_dir / "keys" / "signing.pem"
        self.signing_key_file = self.signing_key_file.resolve()
        if self.env == "production" and not self.signing_key_file.is_file():
            raise ValueError(
                f"JIEBANG_SIGNING_KEY_FILE: no key at {self.signing_key_file}; make one with "
                "`jiebang keys generate PATH`"
            )
        if self.public_keys_dir is None:
            self.public_keys_dir = self.signing_key_file.parent
        if self.smtp_password_file is not None:
            self.smtp_password = self.smtp_password_file.read_text().strip()
        self.public_url = self.public_url.rstrip("/")
        if not self.namespace:
            self.namespace = self.queue_name
        return self

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def max_upload_request_bytes(self) -> int:
        """The body of an upload route: the largest file, plus room for the form around it."""
        return max(self.max_image_bytes, self.max_bundle_bytes) + MiB

    @property
    def scratch_dir(self) -> Path:
        return self.data_dir / "scratch"


def load_settings(**overrides: object) -> Settings:
    """Read the environment now; keyword overrides win (tests and the CLI use them)."""
    return Settings(**overrides)
