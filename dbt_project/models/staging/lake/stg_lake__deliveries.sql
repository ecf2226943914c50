-- The deliveries the build reads (lake/_deliveries.parquet): in use, cut-off up to the run date. A snapshot dataset's
-- in-force periods run from one in-use cut-off to the next (the holdings models), empty deliveries included.
with source as (
    select * from {{ source('lake', 'deliveries') }}
),

final as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        cutoff_date,
        seq,
        sha256
    from source
    where in_use and cutoff_date <= {{ run_date() }}
)

select * from final
