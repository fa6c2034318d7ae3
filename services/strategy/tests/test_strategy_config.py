"""The strategies file and the registry: typed parameters and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from optbus.market import load_market_facts
from optbus_strategy.config import (
    StrategyConfigError,
    default_strategies_path,
    load_strategies,
    parse_strategies,
)
from optbus_strategy.params import StrategySpec
from optbus_strategy.registry import default_registry
from optbus_strategy.strategies.short_strangle import ShortStrangleParams

FACTS = load_market_facts()
STRANGLE = """
[[strategy]]
name = "strangle_nifty"
kind = "short_strangle"
underlyings = ["NIFTY"]
{extra}
[strategy.params]
{params}
"""


def _parse(extra: str = "", params: str = "") -> list[StrategySpec]:
    return parse_strategies(
        STRANGLE.format(extra=extra, params=params), source="test.toml", facts=FACTS
    )


def _error(text: str) -> str:
    with pytest.raises(StrategyConfigError) as caught:
        parse_strategies(text, source="test.toml", facts=FACTS)
    return str(caught.value)


def test_the_default_strategies_file_configures_every_built_in_kind() -> None:
    # Some ship turned off (the butterflies: see the file); turned on, they are valid too.
    text = default_strategies_path().read_text().replace("enabled = false", "enabled = true")

    specs = parse_strategies(text, facts=FACTS)

    assert {spec.kind for spec in specs} == set(default_registry().names())


def test_the_default_strategies_file_runs_every_kind_but_the_butterflies() -> None:
    specs = load_strategies(default_strategies_path(), facts=FACTS)

    assert {spec.kind for spec in specs} == set(default_registry().names()) - {"butterfly"}


def test_a_strategy_gets_its_kind_s_parameters_with_the_file_s_overrides() -> None:
    (spec,) = _parse(params="call_delta = 0.2\nlots = 2")

    assert spec.params == ShortStrangleParams(call_delta=0.2, lots=2)


def test_a_disabled_strategy_is_validated_but_not_returned() -> None:
    assert _parse(extra="enabled = false") == []


def test_an_unknown_kind_is_an_error_that_lists_the_known_kinds() -> None:
    message = _error(STRANGLE.format(extra="", params="").replace("short_strangle", "martingale"))

    assert "unknown strategy kind 'martingale'" in message
    assert "iron_condor" in message


def test_an_unknown_parameter_is_an_error_that_names_it() -> None:
    message = _error(STRANGLE.format(extra="", params="call_delt = 0.2"))

    assert "strangle_nifty" in message
    assert "call_delt" in message


def test_a_wrongly_typed_parameter_is_an_error_that_names_the_field() -> None:
    message = _error(STRANGLE.format(extra="", params='lots = "two"'))

    assert "`params.lots`" in message


def test_an_out_of_range_parameter_is_an_error_that_says_why() -> None:
    message = _error(STRANGLE.format(extra="", params="call_delta = 0.7"))

    assert "call_delta and put_delta must be between 0 and 0.5" in message


def test_a_name_used_twice_is_an_error() -> None:
    text = STRANGLE.format(extra="", params="") * 2

    assert "the name is used twice" in _error(text)


def test_an_underlying_without_market_facts_is_an_error() -> None:
    text = STRANGLE.format(extra="", params="").replace('["NIFTY"]', '["SENSEX"]')

    assert "no contract for underlying 'SENSEX'" in _error(text)


def test_an_empty_list_of_underlyings_is_an_error() -> None:
    text = STRANGLE.format(extra="", params="").replace('["NIFTY"]', "[]")

    assert "underlyings is empty" in _error(text)


def test_a_name_that_cannot_name_a_subject_is_an_error() -> None:
    text = STRANGLE.format(extra="", params="").replace("strangle_nifty", "Strangle.Nifty")

    assert "lower case letters, digits and '_'" in _error(text)


def test_a_missing_field_is_an_error_that_names_it() -> None:
    text = STRANGLE.format(extra="", params="").replace('kind = "short_strangle"', "")

    assert "missing required field `kind`" in _error(text)


def test_text_that_is_not_toml_is_an_error_naming_the_source() -> None:
    assert _error("[[strategy]\nname = ").startswith("test.toml: not valid TOML")


def test_a_missing_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(StrategyConfigError, match=r"absent\.toml"):
        load_strategies(path, facts=FACTS)


def test_the_registry_refuses_a_kind_registered_twice() -> None:
    registry = default_registry()

    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.kind("iron_condor"))


def test_the_registry_builds_a_strategy_with_its_configured_name_and_underlyings() -> None:
    (spec,) = _parse()

    strategy = default_registry().build(spec)

    assert (strategy.name, strategy.kind, strategy.underlyings) == (
        "strangle_nifty", "short_strangle", frozenset({"NIFTY"}),
    )  # fmt: skip
