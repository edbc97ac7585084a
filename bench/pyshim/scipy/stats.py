"""mannwhitneyu and gmean, as scipy.stats 1.10 computes them (method='auto', use_continuity=True)."""
import math
from collections import namedtuple

import numpy as np

MannwhitneyuResult = namedtuple("MannwhitneyuResult", ("statistic", "pvalue"))


def gmean(a, axis=0):
    """The geometric mean along an axis (scipy.stats.gmean)."""
    return np.exp(np.mean(np.log(np.asarray(a, dtype=float)), axis=axis))


def _ranks(values):
    """Mid-ranks (1-based) and the sizes of the groups of ties."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _exact_counts(n1, n2):
    """counts[u] = the number of arrangements of n1 + n2 distinct values whose U is u."""
    # f(m, n, u): arrangements of m x-values and n y-values with statistic u
    # (the recurrence of Mann and Whitney, 1947): f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u).
    table = {}

    def f(m, n, u):
        if u < 0 or u > m * n:
            return 0
        if m == 0 or n == 0:
            return 1 if u == 0 else 0
        key = (m, n, u)
        if key not in table:
            table[key] = f(m - 1, n, u - n) + f(m, n - 1, u)
        return table[key]

    return [f(n1, n2, u) for u in range(n1 * n2 + 1)]


def _normal_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


def mannwhitneyu(x, y, use_continuity=True, alternative="two-sided", method="auto"):
    """The Mann-Whitney U test; only the two-sided alternative (what compare.py asks for)."""
    if alternative != "two-sided":
        raise ValueError("only alternative='two-sided' is provided")
    x = list(map(float, x))
    y = list(map(float, y))
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples must be non-empty")
    ranks, ties = _ranks(x + y)
    r1 = sum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    has_ties = any(t > 1 for t in ties)
    if method == "auto":
        method = "exact" if (n1 <= 8 or n2 <= 8) and not has_ties else "asymptotic"
    u = max(u1, u2)
    if method == "exact":
        counts = _exact_counts(n1, n2)
        total = sum(counts)
        sf = sum(counts[int(round(u)):]) / total  # P(U >= u)
        p = 2 * sf
    else:
        n = n1 + n2
        mu = n1 * n2 / 2
        tie_term = sum(t ** 3 - t for t in ties)
        s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        numerator = u - mu - (0.5 if use_continuity else 0)
        z = numerator / s if s > 0 else 0.0
        p = 2 * _normal_sf(z)
    return MannwhitneyuResult(u1, min(max(p, 0.0), 1.0))
