"""The database layer: the only package that imports SQLAlchemy and Alembic.

Nothing that leaves this package is an ORM object; callers get frozen `*Record` dataclasses.
"""
