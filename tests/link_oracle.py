"""Test oracle: a NumPy model of the coded 16-QAM packet link.

This module is an independent reference, used only by the tests. It shares no code with
the GNU Radio blocks of gr-tokcom; the project's chain is checked against the error rates
it measures, so it is kept small, readable and directly checkable against theory.

Per packet: ``n_bits`` random bits (payload + CRC; only the total length matters for the
packet error rate, so all of them are treated as random information bits), a terminated
rate-1/2 feedforward convolutional code (encoder starts in state 0, K-1 zero tail bits),
Gray 16-QAM with the 3GPP TS 38.211 5.1.3 labelling and unit average energy, complex AWGN
of total variance N0 = 10**(-EsN0_dB/10), exact max-log LLRs (positive means bit 1) and an
unquantised soft-decision Viterbi decoder that ends in state 0. A packet is in error when
any of its ``n_bits`` decoded bits is wrong.
"""

import math

import numpy as np

# name -> (constraint length K, generator polynomials in octal, standard convention: the
# most significant bit taps the current input bit). "k7" is the NASA/CCSDS code.
CODES = {
    "k7": (7, (0o171, 0o133)),
    "k3": (3, (0o5, 0o7)),
    "none": (1, ()),
}

# Per-dimension 16-QAM levels (before the 1/sqrt(10) scaling) and the labels of the two bits
# that select them: sign bit (b0 or b1) and amplitude bit (b2 or b3), as in 38.211.
_LEVELS = np.array([1.0, 3.0, -1.0, -3.0]) / math.sqrt(10.0)
_SIGN_BIT = np.array([0, 0, 1, 1])
_AMP_BIT = np.array([0, 1, 0, 1])


def _taps(g, k):
    """Tap i of generator g (i = 0 is the current input, i = K-1 the oldest)."""
    return [(g >> (k - 1 - i)) & 1 for i in range(k)]


def encode(bits, code="k7"):
    """Encode (B, L) bits; returns (B, 2*(L+K-1)) uint8 with the two outputs interleaved.

    Written as a direct modulo-2 convolution with the taps (not via the trellis tables the
    decoder uses) so that encoder and decoder check each other.
    """
    bits = np.asarray(bits, dtype=np.uint8)
    k, gens = CODES[code]
    if code == "none":
        return bits.copy()
    n, length = bits.shape
    u = np.concatenate([bits, np.zeros((n, k - 1), np.uint8)], axis=1)  # zero tail
    out = np.zeros((n, 2 * u.shape[1]), np.uint8)
    for j, g in enumerate(gens):
        c = np.zeros_like(u)
        for i, tap in enumerate(_taps(g, k)):
            if tap:
                c[:, i:] ^= u[:, : u.shape[1] - i]  # input delayed by i steps
        out[:, j::2] = c
    return out


def _trellis(code):
    """Predecessor states and branch labels of each next state, for both dropped bits.

    State = the last K-1 inputs, newest in the most significant bit. The register seen by
    the generators is (input << (K-1)) | state, and the next state is register >> 1; so the
    register that leads to next state ns is (ns << 1) | b, where b is the dropped oldest bit.
    """
    k, (g0, g1) = CODES[code]
    n_states = 1 << (k - 1)
    ns = np.arange(n_states)
    prev, label = [], []
    for b in (0, 1):
        reg = (ns << 1) | b
        prev.append(reg & (n_states - 1))
        c0 = np.array([bin(r & g0).count("1") & 1 for r in reg])
        c1 = np.array([bin(r & g1).count("1") & 1 for r in reg])
        label.append(2 * c0 + c1)
    return n_states, prev, label


def viterbi(llrs, code="k7"):
    """Decode (B, 2*(L+K-1)) LLRs (positive = 1) of a terminated code; returns (B, L) uint8.

    Maximises the correlation sum((2c-1) * llr), the max-log path metric. Path metrics are
    kept as (states, B) so that the add-compare-select is a row gather over all packets.
    """
    llrs = np.asarray(llrs, dtype=np.float64)
    if code == "none":
        return (llrs > 0).astype(np.uint8)
    k = CODES[code][0]
    n_states, (p0, p1), (o0, o1) = _trellis(code)
    n, n_coded = llrs.shape
    steps = n_coded // 2
    lt = llrs.T  # (2*steps, B): one contiguous row per coded bit
    pm = np.full((n_states, n), -np.inf)
    pm[0] = 0.0  # the encoder starts in state 0
    # Decision bits (1 = the predecessor with dropped bit 1 won), packed 8 states per byte.
    decisions = np.empty((steps, (n_states + 7) // 8, n), np.uint8)
    for t in range(steps):
        l0, l1 = lt[2 * t], lt[2 * t + 1]
        bm = np.stack([-l0 - l1, -l0 + l1, l0 - l1, l0 + l1])  # index = 2*c0 + c1
        cand0 = pm[p0] + bm[o0]
        cand1 = pm[p1] + bm[o1]
        decisions[t] = np.packbits(cand1 > cand0, axis=0)
        pm = np.maximum(cand0, cand1)
    # Terminated code: trace back from state 0, one gather over all packets per step.
    cols = np.arange(n)
    state = np.zeros(n, np.int64)
    out = np.empty((n, steps), np.uint8)
    for t in range(steps - 1, -1, -1):
        out[:, t] = state >> (k - 2)  # the input that entered this state
        byte = decisions[t, state >> 3, cols]
        b = (byte >> (7 - (state & 7))) & 1  # packbits is big-endian within a byte
        state = ((state << 1) | b) & (n_states - 1)
    return out[:, : steps - (k - 1)]


def modulate(bits):
    """Map (B, N) bits to (B, ceil(N/4)) unit-energy 16-QAM symbols, zero-padding to 4."""
    bits = np.asarray(bits, dtype=np.uint8)
    pad = (-bits.shape[1]) % 4
    b = np.pad(bits, ((0, 0), (0, pad))).reshape(bits.shape[0], -1, 4).astype(np.float64)
    s = 1 - 2 * b
    return (s[..., 0] * (2 - s[..., 2]) + 1j * s[..., 1] * (2 - s[..., 3])) / math.sqrt(10.0)


def _llr_1d(y, n0):
    """Max-log LLRs of the (sign, amplitude) bits of one real dimension."""
    d = (y[..., None] - _LEVELS) ** 2
    sign = (d[..., _SIGN_BIT == 0].min(-1) - d[..., _SIGN_BIT == 1].min(-1)) / n0
    amp = (d[..., _AMP_BIT == 0].min(-1) - d[..., _AMP_BIT == 1].min(-1)) / n0
    return sign, amp


def demap(y, n0):
    """Exact max-log LLRs of (B, S) symbols; returns (B, 4*S) with b0 b1 b2 b3 per symbol.

    Exact because the constellation is a product of two 4-PAMs labelled by disjoint bits:
    in min |y-p|^2 over a bit's half of the 16 points, the other dimension contributes the
    same minimum to both terms, which cancels.
    """
    b0, b2 = _llr_1d(y.real, n0)
    b1, b3 = _llr_1d(y.imag, n0)
    return np.stack([b0, b1, b2, b3], axis=-1).reshape(y.shape[0], -1)


def simulate(esn0_db, n_packets, code="k7", n_bits=56, seed=0, batch=20000):
    """Count packet and bit errors over ``n_packets`` packets of ``n_bits`` bits."""
    rng = np.random.default_rng(seed)
    n0 = 10.0 ** (-esn0_db / 10.0)
    packet_errors = bit_errors = 0
    done = 0
    while done < n_packets:
        b = min(batch, n_packets - done)
        bits = rng.integers(0, 2, (b, n_bits), dtype=np.uint8)
        coded = encode(bits, code)
        sym = modulate(coded)
        noise = rng.standard_normal((*sym.shape, 2)) * math.sqrt(n0 / 2)
        llrs = demap(sym + noise[..., 0] + 1j * noise[..., 1], n0)[:, : coded.shape[1]]
        wrong = viterbi(llrs, code) != bits
        packet_errors += int(wrong.any(axis=1).sum())
        bit_errors += int(wrong.sum())
        done += b
    return {
        "packets": n_packets,
        "packet_errors": packet_errors,
        "bit_errors": bit_errors,
        "bits": n_packets * n_bits,
    }


def _q(x):
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def ber_16qam_gray(esn0_db):
    """Exact bit error rate of uncoded Gray 16-QAM (Es = 1) with hard decisions.

    Half the minimum distance is 1/sqrt(10) and the noise deviation per dimension is
    sqrt(N0/2), hence x = sqrt(1/(5*N0)). Sign bits err with (Q(x)+Q(3x))/2, amplitude bits
    with (2Q(x)+Q(3x)-Q(5x))/2; the mean of the two is the expression below.
    """
    x = math.sqrt(1.0 / (5.0 * 10.0 ** (-esn0_db / 10.0)))
    return (3 * _q(x) + 2 * _q(3 * x) - _q(5 * x)) / 4


def wilson_interval(k, n, z=1.96):
    """Wilson score interval for k successes in n trials (95 % for z = 1.96)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)
