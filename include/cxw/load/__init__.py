"""Loading into `raw_<source>`: validated, COPY-streamed, batch-atomic, nothing lost."""
