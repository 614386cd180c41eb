"""The job registry: every job the engine can run, by name, and the night's order.

Built-in jobs live in the modules named in :data:`BUILTIN_JOB_MODULES`; each
calls :func:`register` at import. Later batch businesses add one line there.
Extra modules (for example a site's own jobs, or a test's) are named in the
environment variable ``CARDBATCH_JOB_MODULES`` (comma-separated).
"""

from __future__ import annotations

import importlib
import os

from cardbatch.engine.job import EngineError, Job, JobDefinitionError

BUILTIN_JOB_MODULES: tuple[str, ...] = (
    "cardbatch.jobs.post_transactions",
    "cardbatch.jobs.loans_deduct",
    "cardbatch.jobs.cycle",
    "cardbatch.feedback.job",
    "cardbatch.paybatch.run",
)
JOB_MODULES_ENV = "CARDBATCH_JOB_MODULES"

_JOBS: dict[str, Job] = {}
_loaded = False


class UnknownJob(EngineError):
    """No registered job has this name."""


def register(job: Job) -> Job:
    """Add a job; the same name registered twice is a programmer error (unless the same job)."""
    seen = _JOBS.get(job.name)
    if seen is not None and seen is not job:
        raise JobDefinitionError(f"job {job.name} registered twice")
    _JOBS[job.name] = job
    return job


def load_jobs() -> None:
    """Import the built-in job modules and those named in the environment (once)."""
    global _loaded
    if _loaded:
        return
    extra = [m.strip() for m in os.environ.get(JOB_MODULES_ENV, "").split(",") if m.strip()]
    for module in (*BUILTIN_JOB_MODULES, *extra):
        importlib.import_module(module)
    _loaded = True


def get_job(name: str) -> Job:
    load_jobs()
    job = _JOBS.get(name)
    if job is None:
        known = ", ".join(sorted(_JOBS)) or "none"
        raise UnknownJob(f"no job named {name!r} (registered: {known})")
    return job


def all_jobs() -> list[Job]:
    load_jobs()
    return sorted(_JOBS.values(), key=lambda j: j.name)


def night_jobs() -> list[Job]:
    """The jobs of the night, in their order."""
    load_jobs()
    members = [j for j in _JOBS.values() if j.night_order is not None]
    return sorted(members, key=lambda j: (j.night_order or 0, j.name))
