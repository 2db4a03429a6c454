"""PII protection: hashing and masking, the erasure suppression list, right-to-be-forgotten."""
