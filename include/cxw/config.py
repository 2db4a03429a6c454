"""One typed place for configuration: environment variables `CXW_*` (and a `.env` file).

Everything else receives a `Settings` object; nothing reads the environment deep inside.
Secrets that are not given (PII salt, role passwords) are generated once and kept under
`$CXW_HOME/secrets/` with 0600 permissions, so they survive restarts and are never committed.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "cxw"
AIRFLOW_DB = "airflow"
SHOP_SOURCE_DB = "cxw_source_shop"
ROLES = ("cxw_loader", "cxw_transformer", "cxw_bi_reader")


class Settings(BaseSettings):
    """Runtime configuration for the CLI, the DAGs, dbt and the tests."""

    model_config = SettingsConfigDict(
        env_prefix="CXW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default=PROJECT_ROOT / ".cxw", description="state: pgdata, sources, logs")
    warehouse_url: SecretStr | None = Field(
        default=None, description="an external Postgres server; unset = the embedded one"
    )
    pg_host: str = "127.0.0.1"
    pg_port: int = Field(default=55432, ge=1024, le=65535)
    crm_port: int = Field(default=58080, ge=1024, le=65535)
    crm_url: str | None = Field(
        default=None,
        description="a real CRM API; unset = the local simulator (API key from the cxw_crm connection)",
    )
    shop_url: SecretStr | None = Field(
        default=None, description="the shop OLTP database; unset = cxw_source_shop on the warehouse"
    )
    drops_dir: Path | None = Field(
        default=None,
        description="where contact-center and survey drops land; unset = $CXW_HOME/sources",
    )
    airflow_port: int = Field(default=58081, ge=1024, le=65535)
    pii_salt: SecretStr | None = Field(default=None, description="salt for PII hashes")
    reject_threshold: float = Field(default=0.01, ge=0, le=1, description="max rejected share")
    identity_max_share: int = Field(
        default=3, ge=1, description="an identifier shared by more people never links records"
    )
    alert_slack_webhook: SecretStr | None = None
    alert_email: str | None = None
    smtp_host: str | None = Field(default=None, description="host:port for e-mail alerts")
    dbt_threads: int = Field(default=2, ge=1)

    # ---- paths --------------------------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def sources_dir(self) -> Path:
        return self.home / "sources"

    @property
    def drops_root(self) -> Path:
        """Root of the file drops (contact_center/, survey/)."""
        return self.drops_dir or self.sources_dir

    def shop_libpq_url(self) -> str:
        if self.shop_url is not None:
            return self.shop_url.get_secret_value().replace(
                "postgresql+psycopg://", "postgresql://"
            )
        return self.libpq_url(SHOP_SOURCE_DB)

    @property
    def truth_dir(self) -> Path:
        return self.sources_dir / "truth"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def report_dir(self) -> Path:
        return self.home / "report"

    @property
    def embedded(self) -> bool:
        """True when the warehouse is the embedded server managed by `cxw warehouse`."""
        return self.warehouse_url is None

    # ---- secrets -----------------------------------------------------------------------
    def secret(self, name: str, nbytes: int = 24) -> str:
        """Return the named secret, generating it once (0600 file under secrets/)."""
        path = self.secrets_dir / name
        if path.exists():
            return path.read_text().strip()
        self.secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.secrets_dir, 0o700)
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        return value

    def salt(self) -> str:
        """The PII-hashing salt: configured, or generated once and kept."""
        if self.pii_salt is not None:
            return self.pii_salt.get_secret_value()
        return self.secret("pii_salt", 32)

    def role_password(self, role: str) -> str:
        return self.secret(f"{role}.password")

    # ---- connection URLs ---------------------------------------------------------------
    def superuser_url(
        self, database: str = WAREHOUSE_DB, driver: str = "postgresql+psycopg"
    ) -> str:
        """SQLAlchemy URL of the warehouse server as its administrator, for one database."""
        if self.warehouse_url is not None:
            url = self.warehouse_url.get_secret_value()
            base, _, _ = url.rpartition("/")
            _, _, rest = base.partition("://")
            return f"{driver}://{rest}/{database}"
        pw = quote(self.secret("postgres.password"), safe="")
        return f"{driver}://postgres:{pw}@{self.pg_host}:{self.pg_port}/{database}"

    def role_url(
        self, role: str, database: str = WAREHOUSE_DB, driver: str = "postgresql+psycopg"
    ) -> str:
        """URL for one of the project's least-privilege roles."""
        host, port = self.server_address()
        pw = quote(self.role_password(role), safe="")
        return f"{driver}://{role}:{pw}@{host}:{port}/{database}"

    def server_address(self) -> tuple[str, int]:
        if self.warehouse_url is None:
            return self.pg_host, self.pg_port
        from sqlalchemy.engine import make_url

        url = make_url(self.warehouse_url.get_secret_value())
        return url.host or "127.0.0.1", url.port or 5432

    def libpq_url(self, database: str = WAREHOUSE_DB) -> str:
        """A plain libpq URI (for psql and psycopg)."""
        return self.superuser_url(database, driver="postgresql")

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt_project/profiles.yml reads."""
        from sqlalchemy.engine import make_url

        url = make_url(self.superuser_url())
        return {
            "CXW_DBT_HOST": url.host or "127.0.0.1",
            "CXW_DBT_PORT": str(url.port or 5432),
            "CXW_DBT_USER": url.username or "postgres",
            "CXW_DBT_PASSWORD": url.password or "",
            "CXW_DBT_DBNAME": url.database or WAREHOUSE_DB,
            "CXW_DBT_THREADS": str(self.dbt_threads),
            "CXW_DBT_PII_SALT": self.salt(),
            "CXW_DBT_IDENTITY_MAX_SHARE": str(self.identity_max_share),
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
