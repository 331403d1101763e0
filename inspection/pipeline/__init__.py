"""Wires sources → trigger → tools → decision → ordered dispatch to sinks. The only room that does."""
