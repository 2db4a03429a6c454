"""cx-warehouse: an Airflow-orchestrated customer-experience data warehouse."""

__version__ = "0.1.0"
