"""What every optbus service shares at run time: settings, logs, metrics, health, the bus."""
