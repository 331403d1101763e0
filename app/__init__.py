"""Lineside's Qt GUI: screens and widgets over the inspection core."""
