"""Where BI tools connect: the warehouse as the read-only `cxw_bi_reader` role.

The address is the one the *BI server* uses, which is not always ours: in Docker, Metabase and
Superset reach the warehouse as the compose service `warehouse:5432`, hence the overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from cxw.config import WAREHOUSE_DB, Settings

BI_ROLE = "cxw_bi_reader"


@dataclass(frozen=True)
class WarehouseTarget:
    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        host: str | None = None,
        port: int | None = None,
        with_password: bool = True,
    ) -> WarehouseTarget:
        """The bi reader's connection from Settings, with the BI server's host/port if given.

        `with_password=False` (an export that never contains it) leaves the password empty
        instead of reading, or generating, the role's secret.
        """
        from sqlalchemy.engine import make_url

        if with_password:
            url = make_url(settings.role_url(BI_ROLE))
            user, dbname = url.username or BI_ROLE, url.database or WAREHOUSE_DB
            default_host, default_port = url.host or "127.0.0.1", url.port or 5432
            password = url.password or ""
        else:
            user, dbname, password = BI_ROLE, WAREHOUSE_DB, ""
            default_host, default_port = settings.server_address()
        return cls(
            host=host or default_host,
            port=port or default_port,
            dbname=dbname,
            user=user,
            password=password,
        )

    def sqlalchemy_uri(
        self, driver: str = "postgresql+psycopg2", password: str | None = None
    ) -> str:
        """A SQLAlchemy URI; `password` replaces the real one (e.g. with a mask)."""
        pw = quote(self.password if password is None else password, safe="")
        return f"{driver}://{quote(self.user, safe='')}:{pw}@{self.host}:{self.port}/{self.dbname}"

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"
