-- No email address reaches dim_customer_360 except in masked form: outside email_masked, no
-- column may contain an '@', and email_masked keeps only the first character of the local
-- part. Returns offending customers.
select customer_key
from {{ ref('dim_customer_360') }} as customers
where
    (to_jsonb(customers) - 'email_masked')::text like '%@%'
    or (email_masked is not null and email_masked !~ '^.?\*\*\*@[^@]+$')
