"""Business logic: no HTTP types here; called by api/, calls db/, epics/, live/, jobs/."""
