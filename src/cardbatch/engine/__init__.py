"""The batch engine every batch business runs on: jobs, runs, chunks, locks, dry runs, the night.

A job (:class:`Job`) declares steps; the engine runs them for a business date
in chunks that each commit in one transaction, with exactly one runner per
run identity, restart from the last committed chunk, control totals between
steps, dry runs that roll back, and monitoring data. See docs/engine.md.
"""

from cardbatch.engine.job import (
    EngineError,
    Item,
    ItemOutcome,
    ItemStatus,
    Job,
    JobContext,
    OutputFile,
    Step,
    StepInputError,
    StepTotals,
    failed,
    skipped,
    succeeded,
)
from cardbatch.engine.locks import LockLost, RunLocked
from cardbatch.engine.monitor import RunReport, StepReport, UnknownRun
from cardbatch.engine.registry import get_job, night_jobs, register
from cardbatch.engine.runner import (
    AlreadyCompleted,
    ControlTotalsMismatch,
    RunNotResumable,
    RunRequest,
    run_job,
)
from cardbatch.engine.settings import EngineSettings, load_settings

__all__ = [
    "AlreadyCompleted",
    "ControlTotalsMismatch",
    "EngineError",
    "EngineSettings",
    "Item",
    "ItemOutcome",
    "ItemStatus",
    "Job",
    "JobContext",
    "LockLost",
    "OutputFile",
    "RunLocked",
    "RunNotResumable",
    "RunReport",
    "RunRequest",
    "Step",
    "StepInputError",
    "StepReport",
    "StepTotals",
    "UnknownRun",
    "failed",
    "get_job",
    "load_settings",
    "night_jobs",
    "register",
    "run_job",
    "skipped",
    "succeeded",
]
