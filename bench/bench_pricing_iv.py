"""Implied volatility and Greeks: optbus against py_vollib_vectorized and QuantLib (issue 3)."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import QuantLib as ql
from _pricing_data import Options, concatenate, nifty_chains, random_options
from _records import Record, best_seconds, one_core, record

from optbus.pricing import black76_greeks, implied_greeks_black76, implied_vol_black76

PVV = "py_vollib_vectorized 0.1.1"


def _pvv_iv(o: Options) -> np.ndarray:
    import py_vollib_vectorized as pvv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(
            pvv.vectorized_implied_volatility_black(
                o.price,
                o.forward,
                o.strike,
                o.rate,
                o.t,
                o.flags,
                on_error="ignore",
                return_as="numpy",
            )
        )


def _pvv_iv_and_greeks(o: Options) -> None:
    import py_vollib_vectorized as pvv

    iv = _pvv_iv(o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pvv.get_all_greeks(
            o.flags, o.forward, o.strike, o.t, o.rate, iv, model="black", return_as="dict"
        )


def _ours(o: Options, workers: int = 1) -> np.ndarray:
    return implied_vol_black76(
        o.is_call, o.price, o.forward, o.strike, o.t, o.rate, workers=workers
    ).iv


def _quantlib_iv(o: Options) -> np.ndarray:
    """QuantLib's Black implied standard deviation, one option at a time, to 1e-12."""
    out = np.full(o.price.size, np.nan)
    for i in range(o.price.size):
        kind = ql.Option.Call if o.is_call[i] else ql.Option.Put
        sqrt_t = math.sqrt(o.t[i])
        df = math.exp(-o.rate[i] * o.t[i])
        try:
            sd = ql.blackFormulaImpliedStdDev(
                kind, o.strike[i], o.forward[i], o.price[i], df, 0.0, 0.3 * sqrt_t, 1e-12, 100
            )
            out[i] = sd / sqrt_t
        except RuntimeError:
            pass  # QuantLib gives up on some extreme options; counted as NaN
    return out


def _quantlib_greeks(o: Options) -> None:
    for i in range(o.price.size):
        kind = ql.Option.Call if o.is_call[i] else ql.Option.Put
        t = o.t[i]
        calc = ql.BlackCalculator(
            ql.PlainVanillaPayoff(kind, o.strike[i]),
            o.forward[i],
            o.vol[i] * math.sqrt(t),
            math.exp(-o.rate[i] * t),
        )
        calc.value(), calc.deltaForward(), calc.gammaForward(), calc.theta(o.forward[i], t)
        calc.vega(t), calc.rho(t) + calc.dividendRho(t)


def _implied_vol_records(options: Options, sample: Options) -> list[Record]:
    n = options.price.size
    _ours(options.take(slice(0, 1000)))  # compile or load the numba cache
    _pvv_iv(options.take(slice(0, 1000)))
    with one_core():
        ours = best_seconds(lambda: _ours(options), 5)
        pvv = best_seconds(lambda: _pvv_iv(options), 3)
        ql_seconds = best_seconds(lambda: _quantlib_iv(sample), 1)
    two = best_seconds(lambda: _ours(options, workers=2), 5)
    ours_error = float(np.nanmax(np.abs(_ours(options) - options.vol)))
    pvv_error = float(np.nanmax(np.abs(_pvv_iv(options) - options.vol)))
    ql_error = float(np.nanmax(np.abs(_quantlib_iv(sample) - sample.vol)))
    cores = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    return [
        record("iv_1m_one_core", n / ours, "options/s", f"{PVV}, one core", n / pvv),
        record(f"iv_1m_{cores}_threads", n / two, "options/s", f"{PVV} (single-threaded)", n / pvv),
        record(
            "iv_one_core_vs_quantlib",
            n / ours,
            "options/s",
            f"QuantLib 1.44 blackFormulaImpliedStdDev per option ({sample.price.size:,})",
            sample.price.size / ql_seconds,
        ),
        record("iv_max_abs_error", ours_error, "vol", f"{PVV} max abs error", pvv_error),
        record(
            "iv_max_abs_error_vs_quantlib",
            ours_error,
            "vol",
            "QuantLib max abs error (accuracy 1e-12, on its sample)",
            ql_error,
        ),
    ]


def _chain_records(chains: list[Options]) -> list[Record]:
    batch = concatenate(chains)
    n = batch.price.size
    few = chains[: max(5, len(chains) // 50)]
    n_few = sum(c.price.size for c in few)

    def fused(cs: list[Options]) -> None:
        for c in cs:
            implied_greeks_black76(c.is_call, c.price, c.forward, c.strike, c.t, c.rate)

    def unfused(cs: list[Options]) -> None:
        for c in cs:
            iv = implied_vol_black76(c.is_call, c.price, c.forward, c.strike, c.t, c.rate).iv
            black76_greeks(c.is_call, c.forward, c.strike, c.t, c.rate, iv)

    def pvv(cs: list[Options]) -> None:
        for c in cs:
            _pvv_iv_and_greeks(c)

    fused(chains[:2]), pvv(chains[:2])
    with one_core():
        t_fused = best_seconds(lambda: fused(chains), 5)
        t_unfused = best_seconds(lambda: unfused(chains), 3)
        t_pvv = best_seconds(lambda: pvv(few), 2)
        t_batch = best_seconds(
            lambda: implied_greeks_black76(
                batch.is_call, batch.price, batch.forward, batch.strike, batch.t, batch.rate
            ),
            5,
        )
        t_pvv_batch = best_seconds(lambda: _pvv_iv_and_greeks(batch), 2)
    size = chains[0].price.size
    return [
        record(
            f"iv_greeks_chains_of_{size}_one_core",
            n / t_fused,
            "options/s",
            f"{PVV} IV + get_all_greeks per chain, one core",
            n_few / t_pvv,
        ),
        record(
            f"iv_greeks_chains_of_{size}_one_core_fused_vs_separate",
            n / t_fused,
            "options/s",
            "optbus implied_vol_black76 then black76_greeks per chain",
            n / t_unfused,
        ),
        record(
            "iv_greeks_1m_batch_one_core",
            n / t_batch,
            "options/s",
            f"{PVV} IV + get_all_greeks, one batch, one core",
            n / t_pvv_batch,
        ),
    ]


def _greeks_records(options: Options, sample: Options) -> list[Record]:
    n = options.price.size
    args = (options.is_call, options.forward, options.strike, options.t, options.rate, options.vol)
    black76_greeks(*args)
    with one_core():
        ours = best_seconds(lambda: black76_greeks(*args), 5)
        ql_seconds = best_seconds(lambda: _quantlib_greeks(sample), 1)
    return [
        record(
            "price_greeks_1m_numpy_one_core",
            n / ours,
            "options/s",
            f"QuantLib 1.44 BlackCalculator per option ({sample.price.size:,})",
            sample.price.size / ql_seconds,
        )
    ]


def run(scale: float) -> list[Record]:
    """All implied-volatility and Greeks records."""
    n = max(10_000, int(1_000_000 * scale))
    options = random_options(n)
    sample = options.take(slice(0, max(2_000, int(20_000 * scale))))
    chains = nifty_chains(n)
    return (
        _implied_vol_records(options, sample)
        + _chain_records(chains)
        + _greeks_records(options, sample)
    )
