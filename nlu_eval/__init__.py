"""Evaluation of the assistant's NLU, used by running code (the staff console's retrainer gates
a new model on it) as well as by the scripts in ``tools/`` and the tests: train a model
in-process and classify held-out examples (:mod:`.runner`), and the metrics
(:mod:`.metrics`). The held-out data lives in ``nlu_data_holdout/`` (``Settings.holdout_dir``),
beside the training data but never trained on."""
