"""Batch payment files on the store: payroll (代发工资) and fee collection (批量扣费/代扣)
through submit -> validate -> approve (maker-checker) -> run -> return files, debit
mandates (授权), and loan instalment deduction (贷款扣款). See ``docs/paybatch.md``.

The file formats, pure checks and return-file rendering are :mod:`cardbatch.payfiles`;
this package is the lifecycle around them.
"""

from cardbatch.paybatch.batches import approve, list_batches, show
from cardbatch.paybatch.model import (
    BatchNotFound,
    BatchStateError,
    BatchStatus,
    BatchSummary,
    MakerCheckerError,
    PaybatchError,
    Rejection,
    RunOutcome,
    RunRefused,
)
from cardbatch.paybatch.returns import ReturnFiles, write_batch_returns
from cardbatch.paybatch.run import entry_key, run_batch
from cardbatch.paybatch.submit import SubmitOutcome, SubmitRequest, submit

__all__ = [
    "BatchNotFound",
    "BatchStateError",
    "BatchStatus",
    "BatchSummary",
    "MakerCheckerError",
    "PaybatchError",
    "Rejection",
    "ReturnFiles",
    "RunOutcome",
    "RunRefused",
    "SubmitOutcome",
    "SubmitRequest",
    "approve",
    "entry_key",
    "list_batches",
    "run_batch",
    "show",
    "submit",
    "write_batch_returns",
]
