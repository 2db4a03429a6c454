{#- Raw identifiers never reach the marts (ARCHITECTURE.md s.6): no text column of the VoC
    fact holds something shaped like an e-mail address. Returns offending responses. -#}
select
    response_id,
    comment_redacted
from {{ ref('fct_survey_responses') }}
where comment_redacted ~* '[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}'
