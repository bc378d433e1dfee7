"""Running a trained model, whatever its task: finding and opening a model directory (:mod:`.models`,
:mod:`.model_dir`), the PyTorch and ONNX Runtime backends (:mod:`.backend`, :mod:`.onnx`), length-sorted
batches (:mod:`.batching`) and the long-run memory policy (:mod:`.memory`). Knows no task: the tasks build on
it."""
