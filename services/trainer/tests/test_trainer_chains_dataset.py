"""Chain rows from hand-made chains whose forward returns are known."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from trainer_chains import DAY, EXPIRY, FACTS, MINUTE, NEXT_DAY, rising, session, vix

from optbus.events import ChainGreeks, Contract, VolatilityIndexTick
from optbus.features import FEATURE_NAMES, FeatureHistory, feature_vector, option_features
from optbus_trainer.chains_dataset import (
    BELOW_MIN_PRICE,
    NO_FUTURE_QUOTE,
    ONE_SIDED,
    ChainSampling,
    ChainSetBuilder,
)

SAMPLING = ChainSampling(sample_minutes=5, horizon_minutes=15)


def test_each_option_is_labelled_with_its_mid_return_over_the_horizon() -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(60)))

    first = (rows.ts_ns == FACTS.session_open_ns(DAY)).nonzero()[0]
    by_option = {(rows.strike[i], rows.option_type[i]): rows.forward_return_pct[i] for i in first}
    assert len(by_option) == 4
    assert by_option[(26_000.0, "CE")] == pytest.approx(15.0)  # 100 -> 115
    assert by_option[(26_100.0, "CE")] == pytest.approx(100 * 105 / 90 - 100)
    assert by_option[(26_000.0, "PE")] == pytest.approx(60.0)  # 50 -> 80


def test_a_sample_is_taken_every_n_minutes_and_waits_for_its_horizon() -> None:
    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(60)))

    minutes = sorted({int((ts - FACTS.session_open_ns(DAY)) // MINUTE) for ts in rows.ts_ns})
    assert minutes == list(range(0, 45, 5))  # minute 45's horizon (60) is past the data
    assert rows.rows == 9 * 4
    assert rows.skipped == {NO_FUTURE_QUOTE: 3 * 4}
    assert set((rows.future_ts_ns - rows.ts_ns).tolist()) == {15 * MINUTE}


def test_a_label_never_comes_from_the_next_session() -> None:
    late = session(range(355, 375))  # 15:10 to 15:29
    sampling = msgspec.structs.replace(SAMPLING, max_label_delay_seconds=86_400.0)

    rows = ChainSetBuilder(FACTS, sampling).observe_all([*late, *session(range(30), day=NEXT_DAY)])

    open_1, open_2 = FACTS.session_open_ns(DAY), FACTS.session_open_ns(NEXT_DAY)
    assert sorted(set(rows.ts_ns.tolist())) == [
        open_1 + 355 * MINUTE, open_2, open_2 + 5 * MINUTE, open_2 + 10 * MINUTE,
    ]  # fmt: skip
    assert set((rows.future_ts_ns - rows.ts_ns).tolist()) == {15 * MINUTE}
    assert rows.skipped[NO_FUTURE_QUOTE] == 6 * 4  # 15:15, 15:20, 15:25 and 09:30 to 09:40


def test_a_gap_longer_than_the_allowed_delay_leaves_the_sample_out() -> None:
    chains = [c for m, c in enumerate(session(range(40))) if not 15 <= m < 17]

    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(chains)

    assert FACTS.session_open_ns(DAY) not in rows.ts_ns.tolist()
    assert rows.skipped[NO_FUTURE_QUOTE] >= 4


def test_the_features_at_t_are_unchanged_when_everything_after_t_changes() -> None:
    cut = 20
    before: list[ChainGreeks | VolatilityIndexTick] = [vix(0, 13.0), *session(range(cut + 1))]

    def crashed(minute: int, strike: float, option_type: str) -> float:
        return 5.0 + strike / 26_000

    after: list[ChainGreeks | VolatilityIndexTick] = [
        vix(cut + 1, 40.0),
        *session(range(cut + 1, 60), price=crashed, oi=9_999),
    ]
    honest = ChainSetBuilder(FACTS, SAMPLING).observe_all([*before, *session(range(cut + 1, 60))])
    altered = ChainSetBuilder(FACTS, SAMPLING).observe_all([*before, *after])

    early = honest.ts_ns <= FACTS.session_open_ns(DAY) + cut * MINUTE
    assert early.sum() == 5 * 4
    assert honest.ts_ns.tolist() == altered.ts_ns.tolist()
    assert honest.x[early].tolist() == altered.x[early].tolist()
    assert honest.forward_return_pct[early].tolist() != altered.forward_return_pct[early].tolist()


def test_a_row_holds_exactly_what_the_strategy_service_would_compute_then() -> None:
    chains = session(range(40))
    history = FeatureHistory(FACTS)
    for earlier in chains[:10]:
        history.observe_chain(earlier)
    contract = Contract(underlying="NIFTY", expiry=EXPIRY, strike=26_100.0, option_type="PE")
    served = option_features(chains[10], contract, history.context(chains[10], contract),
                             strategy="none", signal_strength=0.0)  # fmt: skip

    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(chains)

    at = (rows.ts_ns == chains[10].ts_event) & (rows.strike == 26_100.0)
    put = [i for i in at.nonzero()[0] if rows.option_type[i] == "PE"]
    assert rows.x[put[0]].tolist() == feature_vector(served)
    assert rows.feature_names == FEATURE_NAMES


def test_one_sided_and_cheap_quotes_are_counted_and_left_out() -> None:
    def thin(minute: int, strike: float, option_type: str) -> float:
        return 0.75 if strike == 26_100.0 else rising(minute, strike, option_type)

    chains = session(range(20), price=thin)
    one_sided = msgspec.structs.replace(
        chains[0].snapshot.calls, bid=[0.0, 0.25], ask=[101.0, 1.25]
    )
    snapshot = msgspec.structs.replace(chains[0].snapshot, calls=one_sided)
    chains[0] = msgspec.structs.replace(chains[0], snapshot=snapshot)

    rows = ChainSetBuilder(FACTS, SAMPLING).observe_all(chains)

    assert rows.skipped[ONE_SIDED] == 1
    assert rows.skipped[BELOW_MIN_PRICE] == 4 * 2  # both 26,100s at each of 4 samples
    assert set(rows.strike.tolist()) == {26_000.0}


def test_rows_are_sampled_only_inside_the_window_but_labelled_from_after_it() -> None:
    open_ns = FACTS.session_open_ns(DAY)
    builder = ChainSetBuilder(
        FACTS, SAMPLING, emit_from_ns=open_ns + 10 * MINUTE, emit_until_ns=open_ns + 20 * MINUTE
    )

    rows = builder.observe_all(session(range(60)))

    assert sorted(set(rows.ts_ns.tolist())) == [open_ns + 10 * MINUTE, open_ns + 15 * MINUTE]
    assert rows.future_ts_ns.max() == open_ns + 30 * MINUTE


def test_as_a_training_set_a_rising_option_is_a_winner_on_its_exchange_day() -> None:
    def falling_puts(minute: int, strike: float, option_type: str) -> float:
        return 200.0 - minute if option_type == "PE" else rising(minute, strike, option_type)

    data = ChainSetBuilder(FACTS, SAMPLING).observe_all(session(range(30), price=falling_puts))

    training = data.training_set(FACTS)
    is_call = training.x[:, FEATURE_NAMES.index("is_call")] == 1.0
    assert training.winner[is_call].all()
    assert not training.winner[~is_call].any()
    assert training.days == (DAY,)


@pytest.mark.parametrize(
    "bad", [{"sample_minutes": 0}, {"horizon_minutes": -1}, {"min_price": -1.0}]
)
def test_a_sampling_that_cannot_work_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        ChainSampling(**bad)
