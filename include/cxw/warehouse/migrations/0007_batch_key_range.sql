-- The smallest and largest record key a batch loaded (as text, compared in the key's own type):
-- a new batch whose key range overlaps no earlier batch's cannot repeat a loaded version, so
-- the loader skips its anti-join (append-only streams such as call logs never overlap).
alter table cxw_meta.batches
    add column if not exists key_min text,
    add column if not exists key_max text;
