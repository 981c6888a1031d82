"""The simulation engine: what every family's parts are solved and added up by.

``contention`` (closed-loop MVA for the means), ``contention_tail`` (the latency percentiles
by Fourier inversion, a batch at a time), ``contention_des`` (an event-by-event simulation,
the reference the tests measure the model against), ``creation`` (the task-creation loop
holding every family's part) and ``simulate`` (``simulate()`` and ``simulate_batch()``). The
engine reads the registry and names no family.
"""
