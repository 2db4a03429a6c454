{#- Every customer-written text the voice-of-customer pipeline analyses (cxw.enrich.text reads
    this relation; columns fixed by CONTRACT.md): survey comments, requester public ticket
    comments, chat transcripts and help-desk satisfaction-rating comments. Agent comments and
    internal notes are not the customer's voice and are left out. text_id is
    '<record kind>:<record id>' (macro voc_text_id), stable across runs. -#}
with

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

ticket_comments as (
    select * from {{ ref('stg_contact_center__ticket_comments') }}
),

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

survey_comments as (
    select
        {{ voc_text_id('survey_response', 'response_id') }} as text_id,
        'survey_comment' as text_source,
        comment as body,
        recorded_at as created_at
    from survey_responses
    where comment is not null
),

requester_comments as (
    select
        {{ voc_text_id('ticket_comment', 'comment_id') }} as text_id,
        case when is_chat_transcript then 'chat_transcript' else 'ticket_comment' end as text_source,
        body,
        commented_at as created_at
    from ticket_comments
    where
        author_role = 'requester'
        and is_public
        and nullif(btrim(body), '') is not null
),

rating_comments as (
    select
        {{ voc_text_id('ticket_rating', 'ticket_id') }} as text_id,
        'ticket_comment' as text_source,
        satisfaction_comment as body,
        coalesce(satisfaction_updated_at, updated_at) as created_at
    from tickets
    where satisfaction_comment is not null
),

final as (
    select * from survey_comments
    union all
    select * from requester_comments
    union all
    select * from rating_comments
)

select * from final
