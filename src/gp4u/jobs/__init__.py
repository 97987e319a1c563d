"""Background jobs: named, idempotent async functions; a transactional outbox to enqueue them;
periodic schedules declared next to each job. Runners (in-process or Celery) live in
`gp4u.worker` and execute the same functions."""
