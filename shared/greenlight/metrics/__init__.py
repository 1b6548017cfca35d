"""Measuring posts: snapshots at fixed post ages, tracked clicks, and the result against the request's
own goal (docs/measurement.md has every definition and why).

Pure logic, no AWS and no HTTP: storage, the measurement state machine, the ``/r/{code}`` route and
mail sending build on these modules. Import the module you need (``from greenlight.metrics import
ages``); this package imports nothing on its own, so a function that only counts clicks never loads
Pillow.
"""
