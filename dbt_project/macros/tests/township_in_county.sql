{#- Dispatch: a township (9-digit code) lies in the county (6-digit code) of the same row; an empty township passes. -#}
{% test township_in_county(model, township_column, county_column) %}
    select * from {{ model }}
    where {{ township_column }} is not null
        and substr({{ township_column }}, 1, 6) <> {{ county_column }}
{% endtest %}
