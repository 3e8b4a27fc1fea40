"""Squirrel: save, compare and restore for EPICS control systems."""

__version__ = "0.1.0"
