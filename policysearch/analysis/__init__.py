"""The analysis: Pareto fronts and hypervolume in plain numpy (``pareto``), a stored study seen
once (``view``: its trials, front, knee, hypervolume, baseline and importances, computed from
one read of the trials), the selection rules and printable tables (``front``), and the report
card against today's Linux (``report_card``)."""
