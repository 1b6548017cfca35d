"""Pilot experiments: a plan fixed in advance, variants in matched slots, a verdict noise cannot fake.

Pure functions and pydantic models, standard library only (no numpy or scipy in the Lambda):
`design` (blocks and the Latin square), `analysis` (the Bayesian model and the analysis of
variance on the log of the per-post metric), `verdict` (winner / leaning / no clear difference),
`power` (what a pilot of this size can detect), `distributions` (t, F, chi-square). See
docs/pilots.md."""
