"""The PostgreSQL output's tests: a real server of their own (``inspection/evaluation/peers.py``)."""

from __future__ import annotations

from inspection.evaluation.peers import ADMIN, PASSWORD, PostgresServer

__all__ = ["ADMIN", "PASSWORD", "PostgresServer"]
