"""Studies built on the tasks, apart from them: multi-seed experiment tables (:mod:`.experiment`, ``ada-atsc
experiment``) and the contrast robustness probe (:mod:`.probe`, ``ada-atsc probe``). The longer studies that
regenerate the docs (robustness, domain adaptation, extraction) are scripts in ``scripts/`` over these and the
tasks."""
