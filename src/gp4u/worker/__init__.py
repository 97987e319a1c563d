"""Job runners: in-process inside `gp4u serve` (embedded default) and Celery (`gp4u worker`,
`gp4u scheduler`) for distributed mode. Both execute the same registered job functions."""
