"""Kernels: contracted volume, prices, attribution of green energy, rounding that adds up."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from greenlink.economics.contracts import (
    attribute_green,
    cap_cumulative,
    contract_price_per_kwh,
    contracted_kwh,
)
from greenlink.economics.money import apportion_kwh, apportion_money, money
from greenlink.scenario.contracts import PPA, CollarPrice, FixedPrice, IndexedPrice

INDEX = pd.date_range("2025-03-01", periods=8, freq="15min", tz="Asia/Shanghai")


def _ppa(volume: dict, start: str = "2025-01-01", end: str = "2025-12-31") -> PPA:
    return PPA.model_validate({"id": "p", "seller": "w", "buyer": "a", "volume": volume,
                               "price": {"kind": "fixed", "price_per_kwh": 0.3},
                               "term": {"start": start, "end": end}})


def test_contracted_volume_per_kind():
    gen = np.arange(8.0)
    assert np.allclose(contracted_kwh(_ppa({"kind": "pay_as_produced", "share": 0.5}), INDEX,
                                      gen, 0.25), gen * 0.5)
    assert np.allclose(contracted_kwh(_ppa({"kind": "baseload", "power_kw": 100}), INDEX,
                                      None, 0.25), 25.0)
    profile = [float(h) for h in range(24)]
    shaped = _ppa({"kind": "shaped", "profile_kw": profile})
    index = pd.date_range("2025-03-01 05:00", periods=4, freq="60min", tz="Asia/Shanghai")
    assert np.allclose(contracted_kwh(shaped, index, None, 1.0), [5, 6, 7, 8])
    outside = _ppa({"kind": "baseload", "power_kw": 100}, start="2025-04-01")
    assert not contracted_kwh(outside, INDEX, None, 0.25).any()


def test_prices_fixed_indexed_collar_and_time_of_day():
    tariff = np.array([0.2, 0.5, 1.0, 1.5, 0.2, 0.5, 1.0, 1.5])
    assert np.allclose(contract_price_per_kwh(IndexedPrice(discount=0.1, adder_per_kwh=0.01),
                                              tariff, INDEX), tariff * 0.9 + 0.01)
    collar = CollarPrice(discount=0.0, floor_per_kwh=0.3, cap_per_kwh=1.2)
    assert np.allclose(contract_price_per_kwh(collar, tariff, INDEX), np.clip(tariff, 0.3, 1.2))
    tod = FixedPrice(periods=[{"start": "00:00", "end": "00:30", "price_per_kwh": 0.1},
                              {"start": "00:30", "end": "24:00", "price_per_kwh": 0.2}])
    assert np.allclose(contract_price_per_kwh(tod, tariff, INDEX), [0.1, 0.1] + [0.2] * 6)


def test_cap_cumulative():
    assert np.allclose(cap_cumulative(np.array([3.0, 3.0, 3.0]), 7.0), [3.0, 3.0, 1.0])
    assert np.allclose(cap_cumulative(np.array([3.0, 3.0]), None), [3.0, 3.0])


@settings(max_examples=60, deadline=None)
@given(green=hnp.arrays(float, 12, elements=st.floats(0, 100)),
       contracted=hnp.arrays(float, (12, 3), elements=st.floats(0, 80)),
       active=hnp.arrays(bool, (12, 3)), takes=hnp.arrays(bool, 3),
       caps=st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=3, max_size=3))
def test_attribution_conserves_green_energy(green, contracted, active, takes, caps):
    att = attribute_green(green, contracted, active, takes, caps)
    total = att.delivered_kwh.sum(axis=1) + att.surplus_kwh.sum(axis=1) + att.uncontracted_kwh
    assert np.allclose(total, green, atol=1e-9)
    assert (att.delivered_kwh <= np.where(active, contracted, 0) + 1e-9).all()
    assert (att.delivered_kwh >= -1e-12).all() and (att.shortfall_kwh >= -1e-12).all()
    assert (att.surplus_kwh[~active] == 0).all()
    for j, cap in enumerate(caps):
        if cap is not None:
            assert att.delivered_kwh[:, j].sum() <= cap + 1e-9


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(0, 1e6), min_size=1, max_size=12))
def test_apportioned_energy_adds_up_to_the_meter(values):
    total = Decimal(repr(sum(values))).quantize(Decimal("0.001"))
    parts = apportion_kwh(values, total)
    assert sum(parts) == total
    assert all(abs(float(p) - v) <= 0.002 + 1e-9 * v * len(values)
               for p, v in zip(parts, values, strict=True))


@settings(max_examples=100, deadline=None)
@given(cents=st.integers(-10**9, 10**9), weights=st.lists(st.floats(0, 1e6), min_size=1,
                                                         max_size=8))
def test_apportioned_money_adds_up(cents, weights):
    amount = Decimal(cents) / 100
    parts = apportion_money(amount, weights)
    assert sum(parts) == money(amount)
    assert all(p == money(p) for p in parts)
