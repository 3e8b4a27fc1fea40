"""epics."""
