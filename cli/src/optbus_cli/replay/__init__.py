"""``optbus replay``: a recorded window through the real services, on a bus of its own.

The run gets an isolated NATS server (its own embedded one unless ``--target-nats-url``
names another; never the live bus), the trading services as processes on market time
(``OPTBUS_CLOCK=market``), and a persistence service that stores what they emit in the
live database under the run id. The recorded market events are published in lockstep: each
one after everything the previous one caused was handled, as the in-process backtest
delivers them, so both give the same trades.

``options`` checks what is asked, ``bus`` prepares the bus and starts the services on it,
``publishing`` sends the events in lockstep, ``results`` reads and stores what the services
emitted, and ``job`` runs them in that order; ``console`` shows a run's progress and
figures, and ``optbus_cli.commands.replay`` is the command that reads the options.
"""
