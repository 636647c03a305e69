-- Contact scores that break the scoring rules: outside 0-100, a critical error not scored 0,
-- a score with nothing in the denominator, or more points earned than possible.
select
    contact_id,
    points_possible,
    points_earned,
    score_pct,
    has_critical_error
from {{ ref('fct_contact_scores') }}
where score_pct < 0
    or score_pct > 100
    or (has_critical_error and (score_pct is null or score_pct <> 0))
    or (not has_critical_error and points_possible = 0 and score_pct is not null)
    or points_earned > points_possible
