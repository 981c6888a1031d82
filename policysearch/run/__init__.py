"""The run: the ask/tell driver (``driver``), the executors that evaluate trials
(``executors``), the storage (``storage``), and what a study and its trials store
(``study_meta``, ``records``)."""
