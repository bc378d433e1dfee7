"""Streaming any analyser over a file: one home for every file command (``absa``, ``extract``, ``predict``)
and the steps built on them; no task owns it.

Modules, one job each: :mod:`.stream` (input records in, output records out, in order, bad records as error
records), :mod:`.workers` (what a worker loads, and the ordered worker pool), :mod:`.output` (output that a
killed run resumes), :mod:`.run` (the driver the commands call), :mod:`.ray` (the pipeline on a Ray Dataset).
"""

from ..runtime.memory import for_long_run
from .output import ResumableOutput, skip
from .ray import RayAnalyser, absa_with_ray
from .workers import AnalyserSpec, WorkerPool, default_threads

__all__ = ["AnalyserSpec", "RayAnalyser", "ResumableOutput", "WorkerPool", "absa_with_ray", "default_threads",
           "for_long_run", "skip"]
