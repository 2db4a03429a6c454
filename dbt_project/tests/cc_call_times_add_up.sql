{#- Call durations are non-negative and AHT's parts add up: handle = talk + hold + wrap, and
    talk + hold = ended - answered for answered calls. -#}
select
    call_id,
    talk_seconds,
    hold_seconds,
    wrap_seconds,
    handle_seconds
from {{ ref('fct_calls') }}
where
    talk_seconds < 0
    or speed_of_answer_seconds < 0
    or wait_seconds < 0
    or (is_answered and handle_seconds <> talk_seconds + hold_seconds + wrap_seconds)
    or (is_answered and abs(talk_seconds + hold_seconds - extract(epoch from ended_at - answered_at)) > 1e-6)
    or (not is_answered and handle_seconds is not null)
