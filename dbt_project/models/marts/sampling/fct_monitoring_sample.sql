{# The contacts QA specialists should evaluate by hand, and why each was picked. #}

with sampled as (

    select * from {{ ref('int_contacts_sampled') }}
    where is_sampled

)

select
    cast(contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
    cast(sample_reason as {{ dbt.type_string() }}) as sample_reason,
    cast(sample_rank as {{ dbt.type_bigint() }}) as sample_rank,
    cast(sample_seed as {{ dbt.type_string() }}) as sample_seed

from sampled
