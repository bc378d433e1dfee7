"""Step 4: LM fine-tuning of an encoder on domain text: from pregenerated epochs (:func:`.finetune.finetune_on_pregenerated`,
``ada-atsc lm-finetune``) or from a raw corpus (:func:`.finetune.finetune_simple`, ``lm-finetune-simple``);
the sparse masked-LM heads (:mod:`.heads`), the data (:mod:`.data`, :mod:`.simple_data`), the Trainer and its
callbacks (:mod:`.training`, :mod:`.callbacks`), the output folder (:mod:`.output_dir`) and the model card
(:mod:`.card`)."""
