#!/usr/bin/python3
"""The SciPy stand-in (bench/pyshim) against SciPy's own documented results, and compare.py
running with it. Run with Debian's python3 (numpy from python3-numpy)."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pyshim"))
from scipy.stats import gmean, mannwhitneyu  # noqa: E402

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL:", message)


# scipy.stats.mannwhitneyu documentation (SciPy 1.10): the ages of male and female workers.
males, females = [19, 22, 16, 29, 24], [20, 11, 17, 12]
r = mannwhitneyu(males, females, method="exact")
check(r.statistic == 17.0, f"U1 is 17: {r.statistic}")
check(math.isclose(r.pvalue, 0.1111111111111111, rel_tol=1e-12), f"exact p: {r.pvalue}")
r = mannwhitneyu(males, females, method="asymptotic")
check(math.isclose(r.pvalue, 0.11134688653314041, rel_tol=1e-9), f"asymptotic p: {r.pvalue}")
check(mannwhitneyu(males, females).pvalue == mannwhitneyu(males, females, method="exact").pvalue,
      "small samples without ties use the exact distribution")
# Completely separated samples of nine each: the smallest asymptotic p-value there is.
a, b = list(range(9)), list(range(100, 109))
r = mannwhitneyu(a, b)
check(r.statistic == 0 and r.pvalue < 0.001, f"separated samples: {r}")
check(mannwhitneyu(a, a).pvalue == 1.0, "identical samples: p = 1")
# Ties use the asymptotic form with the tie correction.
r = mannwhitneyu([1, 1, 2, 2, 3], [1, 2, 2, 3, 3])
check(0.4 < r.pvalue <= 1.0, f"ties: {r}")
g = gmean([[1, 4], [4, 16]])
check([round(v, 9) for v in g] == [2.0, 8.0], f"gmean by column: {g}")

if failures:
    sys.exit(1)
print("pyshim: scipy.stats stand-in agrees with SciPy's documented results")
