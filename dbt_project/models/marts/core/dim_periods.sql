{#
    Every local week (ISO, Monday to Sunday) and month that has contacts, and whether it is closed.
    A period is open until close_after_days full days after its last day; closes_on is the first
    local day on which it is closed, judged against as_of_date (the day the build acts as of).
    Feedback is emailed for closed periods only; open ones are reported as preliminary.
#}

{%- set close_after = var('close_after_days') | int %}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

weeks as (

    select distinct
        'week' as period_type,
        period_week as period,
        cast({{ dbt.date_trunc('week', 'local_date') }} as date) as starts_on

    from contacts

),

months as (

    select distinct
        'month' as period_type,
        period,
        cast({{ dbt.date_trunc('month', 'local_date') }} as date) as starts_on

    from contacts

),

periods as (

    select
        period_type,
        period,
        starts_on,
        cast({{ dbt.dateadd('day', 6, 'starts_on') }} as date) as ends_on
    from weeks

    union all

    select
        period_type,
        period,
        starts_on,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'starts_on')) }} as date) as ends_on
    from months

),

with_close as (

    select
        periods.*,
        cast({{ dbt.dateadd('day', close_after + 1, 'ends_on') }} as date) as closes_on

    from periods

)

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(starts_on as date) as starts_on,
    cast(ends_on as date) as ends_on,
    cast(closes_on as date) as closes_on,
    cast({{ contactqa.as_of_date() }} >= closes_on as {{ dbt.type_boolean() }}) as is_closed,
    cast(case when {{ contactqa.as_of_date() }} >= closes_on then 'closed' else 'open' end as {{ dbt.type_string() }})
        as period_status,
    cast({{ contactqa.as_of_date() }} as date) as as_of_date

from with_close
