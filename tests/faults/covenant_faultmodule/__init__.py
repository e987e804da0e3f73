"""A module used only by the fault tests (``make test-faults``): a state change with its event, and two
subscribers whose effects are counted. Installed for the ``covenant`` subprocesses through a real entry point
(see :mod:`tests.faults.stack`)."""
