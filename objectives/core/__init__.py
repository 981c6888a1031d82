"""The simulator's vocabulary: what every layer above (engine, families, problems) speaks.

Errors, units and kernel limits; the bounded YAML reader; field specs (``fields``) and metric
specs (``metric_spec``); the ``Family`` interface and its parts, lock trips (``locks``) and
knob-to-Linux mappings (``kernel``); ``Policy`` and ``Scenario`` (their per-family members
built by ``sections``); and the registry, a store that validates what it is given and names
no family. Nothing here imports the engine, a family or a problem.
"""
