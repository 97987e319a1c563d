"""The cluster planner: exact least-cost plans (HiGHS), the greedy baseline, explanations."""
