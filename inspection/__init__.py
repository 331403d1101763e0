"""Lineside's inspection core: sources, tools, pipeline, storage, reports. Runs without Qt."""

__version__ = "0.1.0"
