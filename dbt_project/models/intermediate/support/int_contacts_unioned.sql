{#- One row per customer contact with the support team: a ticket, a call, or a call and the
    ticket logged from it (one contact, not two). Channel and queue come from the ticket when
    there is one, else the call (phone). -#}
with

tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

calls as (
    select * from {{ ref('int_calls_measured') }}
),

-- a call and its ticket: linked from either side (call.ticket_id or the ticket's call_id
-- field), the call's own link first. Two equi-joins, not one join on an OR: an OR condition
-- can only be a nested loop, quadratic in the number of contacts.
candidate_links as (
    select
        calls.call_id,
        tickets.ticket_id,
        true as is_from_call
    from calls
    inner join tickets
        on calls.ticket_id = tickets.ticket_id
    union all
    select
        calls.call_id,
        tickets.ticket_id,
        coalesce(calls.ticket_id = tickets.ticket_id, false) as is_from_call
    from calls
    inner join tickets
        on calls.call_id = tickets.call_id
),

call_ticket_links as (
    select distinct on (call_id)
        call_id,
        ticket_id
    from candidate_links
    order by call_id asc, is_from_call desc, ticket_id asc
),

ticket_contacts as (
    select distinct on (tickets.ticket_id)
        'ticket:' || tickets.ticket_id as contact_id,
        tickets.ticket_id,
        calls.call_id,
        coalesce(tickets.customer_key, calls.customer_key) as customer_key,
        tickets.channel,
        coalesce(tickets.queue, calls.queue) as queue,
        least(tickets.created_at, calls.offered_at) as contacted_at,
        false as is_abandoned_call
    from tickets
    left join call_ticket_links
        on tickets.ticket_id = call_ticket_links.ticket_id
    left join calls
        on call_ticket_links.call_id = calls.call_id
    order by tickets.ticket_id, calls.offered_at
),

call_only_contacts as (
    select
        'call:' || calls.call_id as contact_id,
        null::bigint as ticket_id,
        calls.call_id,
        calls.customer_key,
        'phone' as channel,
        calls.queue,
        calls.offered_at as contacted_at,
        calls.is_abandoned as is_abandoned_call
    from calls
    left join call_ticket_links
        on calls.call_id = call_ticket_links.call_id
    where call_ticket_links.call_id is null
),

final as (
    select * from ticket_contacts
    union all
    select * from call_only_contacts
)

select * from final
