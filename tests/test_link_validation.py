"""The coded link (real GNU Radio blocks) against theory and the NumPy oracle.

Criteria, each able to fail:
- uncoded Gray 16-QAM: measured BER inside the 99.9 % interval around the exact BER;
- coded PER at Es/N0 x: no worse than the oracle's (unquantised max-log Viterbi) PER at
  x - 0.1 dB, and no better than the oracle's at x + 0.3 dB, each with 95 % intervals.
"""

import link_oracle as oracle
import pytest

from gnuradio.tokcom.link_sim import run_link


@pytest.mark.parametrize("esn0_db", [6.0, 10.0])
def test_uncoded_16qam_ber_matches_theory(esn0_db):
    r = run_link(esn0_db, 6400, code="none", seed=11)
    lo, hi = oracle.wilson_interval(r.bit_errors, r.bits, z=3.29)
    assert lo <= oracle.ber_16qam_gray(esn0_db) <= hi, (r.bit_errors / r.bits, lo, hi)


def oracle_per(esn0_db, code, n, seed):
    o = oracle.simulate(esn0_db, n, code=code, n_bits=56, seed=seed)
    return oracle.wilson_interval(o["packet_errors"], o["packets"])


@pytest.mark.parametrize("code,oracle_code,esn0_db,n_chain,n_oracle", [
    ("cc_k7", "k7", 7.0, 40000, 80000),
    ("cc_k7", "k7", 8.0, 60000, 200000),
    ("cc_k3", "k3", 8.0, 30000, 60000),
])
def test_per_within_a_tenth_of_a_db_of_the_oracle(code, oracle_code, esn0_db, n_chain,
                                                   n_oracle):
    r = run_link(esn0_db, n_chain, code=code, seed=21)
    chain_lo, chain_hi = oracle.wilson_interval(r.packet_errors, r.packets)
    worse_lo, worse_hi = oracle_per(esn0_db - 0.1, oracle_code, n_oracle, seed=22)
    better_lo, better_hi = oracle_per(esn0_db + 0.3, oracle_code, n_oracle, seed=23)
    assert chain_lo <= worse_hi, f"chain PER {r.per:.2e} is worse than the oracle 0.1 dB lower"
    assert chain_hi >= better_lo, f"chain PER {r.per:.2e} beats the oracle 0.3 dB higher"
    assert r.undetected == 0


def test_crc16_undetected_errors_are_rare_at_low_snr():
    # At 3 dB most packets fail; a 16-bit CRC should pass about 2^-16 of the failures.
    r = run_link(3.0, 20000, code="cc_k7", seed=31)
    assert r.packet_errors > 15000
    assert r.undetected <= 5, r.undetected
