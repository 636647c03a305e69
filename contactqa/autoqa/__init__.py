"""AutoQA: every contact checked against the scorecard's rules, each outcome with its evidence."""
