"""The analysis: Pareto fronts and hypervolume in plain numpy (``pareto``), a stored study's
front and selection rules (``front``), and the report card against today's Linux
(``report_card``)."""
