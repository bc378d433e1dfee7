"""Step 1 of the pipeline: read benchmark data in every format, write the project's JSONL."""

from .readers import read_dataset
from .records import ATSC_LABELS, POLARITIES, AspectExample
from .writers import write_dataset

__all__ = ["ATSC_LABELS", "POLARITIES", "AspectExample", "read_dataset", "write_dataset"]
