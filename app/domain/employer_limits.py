"""Hard bounds on employer requests, whatever the rules in force say.

Rules are data and may be generous; these bounds are what no input may pass, so that totals
stay exact 64-bit integers on both engines: 5,000 employees of at most 1,000,000 hours each
make at most 5e9 hours per request, far from 2**63.
"""

from __future__ import annotations

MAX_EMPLOYEES_PER_REQUEST = 5_000
MAX_HOURS_PER_EMPLOYEE = 1_000_000
MAX_BIGINT = 2**63 - 1
