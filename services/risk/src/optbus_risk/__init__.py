"""optbus risk: pre-trade checks, circuit breaker, kill switch and position monitoring.

The domain here is pure (no I/O, no wall clock): state is folded from events
(``fold.evolve``), intents are decided by ``CheckRunner``, operator commands by
``fold.command`` and exits are proposed by ``monitor``. docs/risk.md describes every rule.
"""

from optbus_risk.checks.runner import CheckRunner
from optbus_risk.config import RiskConfig, load_risk_config, parse_risk_config
from optbus_risk.context import CheckContext, RiskEnv
from optbus_risk.fold import Step, command, evolve
from optbus_risk.killswitch import KillSwitchState
from optbus_risk.monitor import MonitorResult, flatten_positions, monitor_positions
from optbus_risk.state import RiskState

__all__ = [
    "CheckContext",
    "CheckRunner",
    "KillSwitchState",
    "MonitorResult",
    "RiskConfig",
    "RiskEnv",
    "RiskState",
    "Step",
    "command",
    "evolve",
    "flatten_positions",
    "load_risk_config",
    "monitor_positions",
    "parse_risk_config",
]
