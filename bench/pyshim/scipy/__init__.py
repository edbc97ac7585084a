"""The two functions of SciPy that Google Benchmark's compare.py (libbenchmark-tools) imports.

Debian 12's python3-scipy cannot be installed beside this project's Boost 1.81 (it pulls
python3-pythran, which needs libboost1.74-dev, which conflicts with libboost1.81-dev), so
bench/check.py puts this directory on PYTHONPATH when it runs compare.py. Both functions follow
SciPy 1.10's definitions and defaults; bench/tests/test_pyshim.py checks them against SciPy's
documented examples."""
