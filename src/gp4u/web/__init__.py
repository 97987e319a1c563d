"""HTTP plumbing shared by every endpoint: dependencies, errors, responses, middleware."""
