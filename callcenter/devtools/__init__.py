"""Tools for running the system without outside services (the demo, the simulators, tests)."""
