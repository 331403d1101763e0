"""The MQTT output's tests: a real mosquitto broker and a subscriber that records what arrives,
in order (``inspection/evaluation/peers.py``, which the benchmark uses too)."""

from __future__ import annotations

from inspection.evaluation.peers import Broker, Subscriber, free_port, mosquitto_binary

__all__ = ["Broker", "Subscriber", "free_port", "mosquitto_binary"]
