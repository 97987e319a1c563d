"""Project wizard: plain-language requests to planner requirements, via a workload catalog."""
