"""The persistent job queue (SAQ on PostgreSQL + our `job` table) and what tasks see of it."""

from squirrel.jobs.progress import JobCancelled, JobContext, JobOutcome
from squirrel.jobs.queue import JobQueue

__all__ = ["JobCancelled", "JobContext", "JobOutcome", "JobQueue"]
