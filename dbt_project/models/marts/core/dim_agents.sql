with agents as (

    select * from {{ ref('stg_raw__agents') }}

)

select
    cast(agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(full_name as {{ dbt.type_string() }}) as full_name,
    cast(email as {{ dbt.type_string() }}) as email,
    cast(team as {{ dbt.type_string() }}) as team,
    cast(supervisor_email as {{ dbt.type_string() }}) as supervisor_email,
    cast(locale as {{ dbt.type_string() }}) as locale,
    cast(extension as {{ dbt.type_string() }}) as extension,
    active_from,
    active_to

from agents
