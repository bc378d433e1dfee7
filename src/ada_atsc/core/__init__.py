"""The foundations every layer stands on, importing nothing of the project: the error type
(:mod:`.errors`), atomic file output (:mod:`.fileio`), streamed text input (:mod:`.textio`), sentence
splitting (:mod:`.sentences`), the label sets (:mod:`.labels`) and the sequence layouts of each encoder family
(:mod:`.sequence_template`)."""
