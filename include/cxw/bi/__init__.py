"""Dashboards as code: one spec (include/dashboards/cx_dashboards.yml) -> Metabase and Superset."""
