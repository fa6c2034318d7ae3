"""optbus backtest: the live handlers wired in one process to an in-memory bus on replay time."""
