"""What the ties did: the HRDDP monitor, distance profiles, and site opening/closure designs.

This layer sits beside ``estimate``: it reads the store's events, the registry (ties, mandates,
sites) and panels, and returns tables. ``hrddp.monitor`` links dated support ties to the harm the
supported forces did; ``profile.distance_profile`` puts civilian harm into distance bands from the
nearest active site; ``sites`` builds staggered treatments from site openings and closures and
estimates them with ``entangle.estimate``'s staggered estimators; ``series`` gives the monthly
series of attacks on peacekeepers and civilian harm near peacekeeping sites.
"""

# The study designs this layer estimates (study.py validates models against them).
SITE_DESIGNS = ("site-opening", "site-closure")
