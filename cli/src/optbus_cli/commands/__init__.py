"""The ``optbus`` command's subcommands, one module per command group, registered in ``main``."""
