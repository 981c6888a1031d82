"""The job: a search job file validated (``config``), its knob space as Optuna distributions
(``space``) and the sampler it names (``samplers``)."""
