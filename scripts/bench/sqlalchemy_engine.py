"""The SQLAlchemy engine both baselines (sqlalchemy_export.py, sqlalchemy_import.py) connect with."""

from sqlalchemy import create_engine


def make_engine(url):
    connect_args = {}
    if url.startswith("mysql") or url.startswith("mariadb"):
        # Render TIMESTAMP columns in UTC, as dbchunk does.
        connect_args["init_command"] = "SET time_zone = '+00:00'"
    return create_engine(url, connect_args=connect_args)
