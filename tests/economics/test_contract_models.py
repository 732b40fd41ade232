"""Contracts as data: bad input gives clear errors naming the contract."""

from __future__ import annotations

import pytest

from greenlink.errors import InputError

from .conftest import tiny_scenario

PAP = """
[[contracts]]
type = "ppa"
id = "{id}"
seller = "w"
buyer = "a"
volume = {{ kind = "pay_as_produced", share = {share} }}
price = {{ kind = "fixed", price_per_kwh = 0.4 }}
term = {{ start = {start}, end = {end} }}
"""


def _pap(id_: str, share: float, start: str = "2025-01-01", end: str = "2025-12-31") -> str:
    return PAP.format(id=id_, share=share, start=start, end=end)


def test_example_contracts_load():
    sc = tiny_scenario()
    assert [c.id for c in sc.contracts] == ["wind-a", "park-b", "gsa"]


def test_overlapping_contracts_over_100_percent_of_a_plant():
    with pytest.raises(InputError, match=r"claim 130% of its output.*x1, x2"):
        tiny_scenario(_pap("x1", 0.6) + _pap("x2", 0.7))
    # the same shares in terms that do not overlap are fine
    sc = tiny_scenario(_pap("x1", 0.6, end="2025-06-30") + _pap("x2", 0.7, start="2025-07-01"))
    assert len(sc.contracts) == 2
    # a baseload block counts as its kW over the plant's capacity (3000 kW): 0.6 + 1800/3000
    block = _pap("x1", 0.6) + """
[[contracts]]
type = "ppa"
id = "blk"
seller = "w"
buyer = "b"
volume = { kind = "baseload", power_kw = 1800 }
price = { kind = "fixed", price_per_kwh = 0.4 }
term = { start = 2025-03-01, end = 2025-12-31 }
"""
    with pytest.raises(InputError, match="claim 120%"):
        tiny_scenario(block)


def test_price_periods_with_gaps_or_overlaps():
    text = """
[[contracts]]
type = "ppa"
id = "tod"
seller = "park"
buyer = "a"
volume = {{ kind = "baseload", power_kw = 10 }}
price = {{ kind = "fixed", periods = [{periods}] }}
term = {{ start = 2025-01-01, end = 2025-12-31 }}
"""
    gap = ('{ start = "00:00", end = "08:00", price_per_kwh = 0.3 }, '
           '{ start = "09:00", end = "24:00", price_per_kwh = 0.4 }')
    with pytest.raises(InputError, match="gap 08:00–09:00 has no price"):
        tiny_scenario(text.format(periods=gap))
    overlap = ('{ start = "00:00", end = "10:00", price_per_kwh = 0.3 }, '
               '{ start = "09:00", end = "24:00", price_per_kwh = 0.4 }')
    with pytest.raises(InputError, match="overlap at 09:00"):
        tiny_scenario(text.format(periods=overlap))
    short = '{ start = "00:00", end = "20:00", price_per_kwh = 0.3 }'
    with pytest.raises(InputError, match="gap 20:00–24:00"):
        tiny_scenario(text.format(periods=short))


def test_currency_mismatch():
    # issue 17: a contract's currency defaulted to CNY whatever the tariff's, so a EUR tariff
    # refused contracts that did not name a currency; it now defaults to the tariff's
    from greenlink.scenario.contracts import PPA, contract_currency

    sc = tiny_scenario(currency="EUR")
    assert {contract_currency(c, sc) for c in sc.contracts if isinstance(c, PPA)} == {"EUR"}
    # a contract in another currency is converted with CNY rates: it needs a CNY tariff
    in_cny = _pap("x1", 0.2) + 'currency = "CNY"\n'
    with pytest.raises(InputError, match="currency CNY differs from the tariff's EUR"):
        tiny_scenario(in_cny, currency="EUR")


def test_unknown_references_and_bad_terms():
    bad = _pap("x1", 0.2).replace('buyer = "a"', 'buyer = "nobody"').replace(
        'seller = "w"', 'seller = "sun"')
    with pytest.raises(InputError) as err:
        tiny_scenario(bad)
    text = str(err.value)
    assert "buyer 'nobody' is not a user" in text and "seller 'sun' is neither" in text
    with pytest.raises(InputError, match=r"ends .* before it starts"):
        tiny_scenario(_pap("x1", 0.2, start="2025-06-01", end="2025-01-01"))
    with pytest.raises(InputError, match="needs 'share'"):
        tiny_scenario(_pap("x1", 0.2).replace("share = 0.2", "power_kw = 5"))
    with pytest.raises(InputError, match="seller' must be a plant"):
        tiny_scenario(_pap("x1", 0.2).replace('seller = "w"', 'seller = "park"'))
    with pytest.raises(InputError, match="unique"):
        tiny_scenario(_pap("x1", 0.2) + _pap("x1", 0.2))


def test_green_supply_agreement_checks():
    gsa = """
[[contracts]]
type = "green_supply"
id = "g"
seller = "b"
buyer = {{ id = "eu" }}
term = {{ start = 2025-01-01, end = 2025-06-30 }}
shipments = [{{ id = "S", month = "{month}", sku = "{sku}", quantity_t = 1 }}]
"""
    with pytest.raises(InputError, match="made by 'a', not by the seller 'b'"):
        tiny_scenario(gsa.format(month="2025-01", sku="P"))
    with pytest.raises(InputError, match="product 'Q' is not defined"):
        tiny_scenario(gsa.format(month="2025-01", sku="Q"))
    with pytest.raises(InputError, match="outside the term"):
        tiny_scenario(gsa.format(month="2025-09", sku="P").replace('seller = "b"',
                                                                    'seller = "a"'))
    with pytest.raises(InputError, match="not a month"):
        tiny_scenario(gsa.format(month="2025-13", sku="P"))
