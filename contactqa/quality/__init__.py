"""Input checks: Great Expectations suites from expectations/, and the quarantine they feed."""
