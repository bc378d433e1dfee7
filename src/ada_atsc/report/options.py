"""The options of one ``ada-atsc report`` run, typed (the command turns its flags into these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportOptions:
    """Everything a report run needs; see ``ada-atsc report --help`` for each setting."""

    input: str
    output_dir: str
    extractor: str
    classifier: str | None
    """None when ``extractor`` is a unified tagger (one model for both jobs)."""
    categories: str | None = None
    aspect_map: str | None = None
    grouping_encoder: str | None = None
    """The encoder whose term embeddings merge similar aspects; None: the MiniLM sentence encoder when
    installed, else only spelling variants merge."""
    no_embedding_grouping: bool = False
    date_field: str = "date"
    entity_field: str | None = None
    min_count: int = 10
    examples_per_label: int = 3
    title: str = "Aspect sentiment report"
    workers: int = 1
    threads: int = 0
    batch_size: int = 32
    max_seq_length: int = 128
    device: str | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
