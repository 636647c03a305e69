{#
    The measures of one group of contacts (fct_score_estimates): volumes, the census score and
    the random-sample score with what their 95% intervals need (n, mean, sample sd).
#}
{% macro estimate_measures() -%}
        count(*) as contacts_offered,
        sum(case when contact_status = 'answered' then 1 else 0 end) as contacts_answered,
        sum(case when contact_status = 'unanswered' then 1 else 0 end) as contacts_unanswered,
        sum(case when contact_status = 'abandoned' then 1 else 0 end) as contacts_abandoned,
        sum(case when contact_status = 'no_agent_turn' then 1 else 0 end) as contacts_no_agent_turn,
        count(score_pct) as contacts_scored,
        avg(score_pct) as census_mean,
        stddev_samp(score_pct) as census_sd,
        sum(case when has_critical_error then 1 else 0 end) as contacts_with_critical_error,
        sum(failed_criteria_count) as failed_criteria_count,
        count(sample_score_pct) as sample_evaluations,
        avg(sample_score_pct) as sample_mean,
        stddev_samp(sample_score_pct) as sample_sd,
        case
            when min(scorecard_version) = max(scorecard_version) then min(scorecard_version)
            else {{ dbt.concat(["min(scorecard_version)", "', '", "max(scorecard_version)"]) }}
        end as scorecard_versions
{%- endmacro %}
